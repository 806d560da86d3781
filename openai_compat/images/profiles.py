"""What the gateway must know about each Workers AI text-to-image model that its reply cannot tell it.

Three upstream forms exist (workers-ai.md section 9): JSON in and the raw image out (the Stable
Diffusion family, Leonardo's phoenix), JSON in and `{"image": base64}` out (FLUX.1 schnell, Leonardo's
lucid-origin), and a multipart form in with base64 JSON out (FLUX.2). Sizes, step and guidance
ranges and the optional fields come from each model's catalogue schema. A `@cf/...` name missing from
this table is sent the Stable Diffusion form, the most common one, and its reply is read in any form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from openai_compat.core.model_names import Task

TEXT_TO_IMAGE = Task("Text-to-Image", suggestion="@cf/black-forest-labs/flux-1-schnell")

UpstreamForm = Literal["json", "multipart"]


@dataclass(frozen=True)
class ImageModel:
    form: UpstreamForm = "json"
    default_size: tuple[int, int] | None = (1024, 1024)
    """None: the model makes one size only (`fixed_size`) and takes no width or height."""
    fixed_size: tuple[int, int] = (1024, 1024)
    min_side: int = 256
    max_side: int = 2048
    multiple: int = 8
    prompt_max: int | None = None
    steps_field: str | None = "num_steps"
    steps_range: tuple[int, int] = (1, 20)
    quality_steps: dict[str, int] = field(default_factory=dict)
    """Steps for OpenAI's `quality` values; a value not listed sends no steps (the model's default)."""
    guidance_range: tuple[float, float] | None = None
    style_guidance: dict[str, float] = field(default_factory=dict)
    """OpenAI's `style`: `vivid` follows the prompt harder (higher guidance) than `natural`."""
    negative_prompt: bool = False
    seed: bool = False
    image_input: bool = False
    """Takes an input image (img2img) and a mask (inpainting)."""
    default_steps: int | None = None
    """The steps the model takes when sent none (its catalogue default), for pricing per step; None where
    the catalogue states none (a per-step price is then unknown unless the client sent `num_steps`)."""
    known: bool = True

    @property
    def sizable(self) -> bool:
        return self.default_size is not None


_SD_QUALITY = {"low": 10, "medium": 15, "standard": 20, "high": 20, "hd": 20}
_SD_STYLE = {"vivid": 7.5, "natural": 5.0}


def _stable_diffusion(side: int) -> ImageModel:
    return ImageModel(
        default_size=(side, side),
        guidance_range=(0.0, 30.0),
        quality_steps=_SD_QUALITY,
        style_guidance=_SD_STYLE,
        negative_prompt=True,
        seed=True,
        image_input=True,
        default_steps=20,
    )


def _flux2(quality_steps: dict[str, int]) -> ImageModel:
    # FLUX.2 takes a form (prompt, width, height, steps, seed); its catalogue states no limits, so
    # the gateway keeps to what FLUX.2 documents: up to 4 megapixels, sides in 16-pixel steps.
    return ImageModel(form="multipart", steps_field="steps", steps_range=(1, 50), quality_steps=quality_steps,
                      multiple=16, seed=True)


UNKNOWN = ImageModel(known=False, negative_prompt=True, seed=True, quality_steps={}, steps_field=None)

_MODELS: dict[str, ImageModel] = {
    "@cf/stabilityai/stable-diffusion-xl-base-1.0": _stable_diffusion(1024),
    "@cf/bytedance/stable-diffusion-xl-lightning": _stable_diffusion(1024),
    "@cf/lykon/dreamshaper-8-lcm": _stable_diffusion(512),
    "@cf/runwayml/stable-diffusion-v1-5-img2img": _stable_diffusion(512),
    "@cf/runwayml/stable-diffusion-v1-5-inpainting": _stable_diffusion(512),
    # JSON {image: base64}; `additionalProperties: false`: prompt (at most 2048 characters) and steps.
    "@cf/black-forest-labs/flux-1-schnell": ImageModel(
        default_size=None, prompt_max=2048, steps_field="steps", steps_range=(1, 8),
        quality_steps={"low": 2, "medium": 4, "standard": 4, "high": 8, "hd": 8},
    ),
    "@cf/leonardo/lucid-origin": ImageModel(
        default_size=(1120, 1120), max_side=2500, multiple=16, steps_range=(1, 40),
        quality_steps={"low": 10, "medium": 20, "standard": 20, "high": 40, "hd": 40},
        guidance_range=(0.0, 10.0), style_guidance={"vivid": 6.0, "natural": 4.5}, seed=True,
    ),
    # The raw JPEG; negative_prompt must be non-empty when sent.
    "@cf/leonardo/phoenix-1.0": ImageModel(
        default_size=(1024, 1024), multiple=16, steps_range=(1, 50),
        quality_steps={"low": 12, "medium": 25, "standard": 25, "high": 50, "hd": 50},
        guidance_range=(2.0, 10.0), style_guidance={"vivid": 4.0, "natural": 2.0}, negative_prompt=True, seed=True,
        default_steps=25,
    ),
    "@cf/black-forest-labs/flux-2-dev": _flux2({"low": 10, "medium": 20, "standard": 25, "high": 50, "hd": 50}),
    "@cf/black-forest-labs/flux-2-klein-4b": _flux2({"low": 2, "medium": 4, "standard": 4, "high": 8, "hd": 8}),
    "@cf/black-forest-labs/flux-2-klein-9b": _flux2({"low": 2, "medium": 4, "standard": 4, "high": 8, "hd": 8}),
}

OPENAI_PROMPT_LIMITS = {"dall-e-2": 1000, "dall-e-3": 4000}
"""OpenAI's prompt limits for the names that have their own; every other name gets DEFAULT_PROMPT_LIMIT."""
DEFAULT_PROMPT_LIMIT = 32000
MAX_PIXELS_OUT = 4_194_304
"""The largest output the gateway asks for (2048 x 2048): what FLUX.2 and SDXL document as their top."""


def image_model(name: str) -> ImageModel:
    return _MODELS.get(name, UNKNOWN)


def known_models() -> list[str]:
    return sorted(_MODELS)


def prompt_limit(requested: str, spec: ImageModel) -> int:
    limit = OPENAI_PROMPT_LIMITS.get(requested, DEFAULT_PROMPT_LIMIT)
    return min(limit, spec.prompt_max) if spec.prompt_max else limit
