"""The text-to-image models: their input checks and their real output forms.

Three forms, as Cloudflare serves them: JSON in and the raw image out (the Stable Diffusion family:
PNG; Leonardo's phoenix: JPEG), JSON in and ``{"image": base64}`` out (FLUX.1 schnell and Leonardo's
lucid-origin: JPEG), and a ``multipart/form-data`` body in with base64 JSON out (FLUX.2: PNG here).

Every image is made deterministically from the model, prompt, seed, negative prompt and size (a
two-colour gradient whose colours and direction come from a hash of them), so tests can recompute it
with :func:`picture`. img2img blends the input image with that gradient by ``strength``; inpainting
paints the gradient where the mask is white. A prompt containing ``nsfw`` is refused as the real
filter refuses (code 3030); one starting with ``[noise]`` gives incompressible noise, for tests that
need large images (2048 x 2048 is about 12 MB as PNG).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import random
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image, ImageOps, UnidentifiedImageError

from .envelope import ApiError, bad_input, success
from .faults import Faults

if TYPE_CHECKING:  # the registry imports this module to list the models: no import back at run time
    from .registry import ModelSpec

TASK = {
    "id": "3d6e1f35-341b-4915-a6c8-9a7142a9033a",
    "name": "Text-to-Image",
    "description": "Generates images from input text. These models can be used to generate and modify images "
    "based on text prompts.",
}
NSFW_MESSAGE = "AiError: Input prompt contains NSFW content."
NSFW_CODE = 3030

_STRING = {"type": "string"}
_PROMPT = {"type": "string", "minLength": 1}
_BYTES = {"type": "array", "items": {"type": "number"}}


def _side(minimum: int, maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


SD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": _PROMPT, "negative_prompt": _STRING, "height": _side(256, 2048), "width": _side(256, 2048),
        "image": _BYTES, "image_b64": _STRING, "mask": _BYTES, "num_steps": {"type": "integer", "maximum": 20},
        "strength": {"type": "number"}, "guidance": {"type": "number"}, "seed": {"type": "integer"},
    },
    "required": ["prompt"],
}
SCHNELL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"prompt": {"type": "string", "minLength": 1, "maxLength": 2048},
                   "steps": {"type": "integer", "maximum": 8}},
    "required": ["prompt"],
    "additionalProperties": False,
}
LUCID_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": _PROMPT, "guidance": {"type": "number", "minimum": 0, "maximum": 10},
        "seed": {"type": "integer", "minimum": 0}, "height": _side(0, 2500), "width": _side(0, 2500),
        "num_steps": _side(1, 40), "steps": _side(1, 40),
    },
    "required": ["prompt"],
}
PHOENIX_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": _PROMPT, "guidance": {"type": "number", "minimum": 2, "maximum": 10},
        "seed": {"type": "integer", "minimum": 0}, "height": _side(0, 2048), "width": _side(0, 2048),
        "num_steps": _side(1, 50), "negative_prompt": {"type": "string", "minLength": 1},
    },
    "required": ["prompt"],
}
# The binding's form of a FLUX.2 call; over REST the body is the multipart form itself.
FLUX2_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"multipart": {"type": "object", "properties": {"body": {"type": "object"},
                                                                   "contentType": {"type": "string"}}}},
    "required": ["multipart"],
}

# model -> (output: "png" | "jpeg" raw, or "b64-jpeg" | "b64-png" JSON; default side; needs: "", "image", "mask")
BEHAVIOUR: dict[str, tuple[str, int, str]] = {
    "@cf/stabilityai/stable-diffusion-xl-base-1.0": ("png", 1024, ""),
    "@cf/bytedance/stable-diffusion-xl-lightning": ("png", 1024, ""),
    "@cf/lykon/dreamshaper-8-lcm": ("png", 512, ""),
    "@cf/runwayml/stable-diffusion-v1-5-img2img": ("png", 512, "image"),
    "@cf/runwayml/stable-diffusion-v1-5-inpainting": ("png", 512, "mask"),
    "@cf/black-forest-labs/flux-1-schnell": ("b64-jpeg", 1024, ""),
    "@cf/leonardo/lucid-origin": ("b64-jpeg", 1120, ""),
    "@cf/leonardo/phoenix-1.0": ("jpeg", 1024, ""),
    "@cf/black-forest-labs/flux-2-dev": ("b64-png", 1024, ""),
    "@cf/black-forest-labs/flux-2-klein-4b": ("b64-png", 1024, ""),
    "@cf/black-forest-labs/flux-2-klein-9b": ("b64-png", 1024, ""),
}
FORM_FIELDS = {"prompt", "width", "height", "steps", "seed", "guidance"}


def _spec(name: str, schema: dict[str, Any], description: str, created_at: str, catalogue_id: str,
          properties: dict[str, Any], family: str = "image") -> dict[str, Any]:
    return {"name": name, "family": family, "task": "Text-to-Image", "input_schema": schema,
            "description": description, "created_at": created_at, "catalogue_id": catalogue_id,
            "properties": properties}


_BFL = "https://bfl.ai/legal/terms-of-service"
_SD15_TERMS = "https://github.com/runwayml/stable-diffusion/blob/main/LICENSE"
_FREE = [{"unit": "per step", "price": 0, "currency": "USD"}]
# Each model's ModelSpec fields, copied from its catalogue entry (the registry builds the specs).
SPECS: list[dict[str, Any]] = [
    _spec("@cf/stabilityai/stable-diffusion-xl-base-1.0", SD_SCHEMA,
          "Diffusion-based text-to-image generative model by Stability AI. Generates and modify images based on "
          "text prompts.", "2023-11-10 10:54:43.694", "6d52253a-b731-4a03-b203-cde2d4fae871",
          {"beta": "true", "info": "https://stability.ai/stable-diffusion",
           "terms": "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/blob/main/LICENSE.md"}),
    _spec("@cf/bytedance/stable-diffusion-xl-lightning", SD_SCHEMA,
          "SDXL-Lightning is a lightning-fast text-to-image generation model. It can generate high-quality 1024px "
          "images in a few steps.", "2024-02-27 17:41:29.578", "7f797b20-3eb0-44fd-b571-6cbbaa3c423b",
          {"beta": "true", "price": _FREE, "info": "https://huggingface.co/ByteDance/SDXL-Lightning"}),
    _spec("@cf/lykon/dreamshaper-8-lcm", SD_SCHEMA,
          "Stable Diffusion model that has been fine-tuned to be better at photorealism without sacrificing range.",
          "2024-02-27 17:40:38.881", "7912c0ab-542e-44b9-b9ee-3113d226a8b5",
          {"beta": "true", "info": "https://huggingface.co/Lykon/DreamShaper"}),
    _spec("@cf/runwayml/stable-diffusion-v1-5-img2img", SD_SCHEMA,
          "Stable Diffusion is a latent text-to-image diffusion model capable of generating photo-realistic images. "
          "Img2img generate a new image from an input image with Stable Diffusion. ", "",
          "19547f04-7a6a-4f87-bf2c-f5e32fb12dc5",
          {"beta": "true", "info": "https://huggingface.co/runwayml/stable-diffusion-v1-5", "terms": _SD15_TERMS}),
    _spec("@cf/runwayml/stable-diffusion-v1-5-inpainting", SD_SCHEMA,
          "Stable Diffusion Inpainting is a latent text-to-image diffusion model capable of generating "
          "photo-realistic images given any text input, with the extra capability of inpainting the pictures by "
          "using a mask.", "2024-02-27 17:23:57.528", "a9abaef0-3031-47ad-8790-d311d8684c6c",
          {"beta": "true", "price": _FREE, "info": "https://huggingface.co/runwayml/stable-diffusion-inpainting",
           "terms": _SD15_TERMS}),
    _spec("@cf/black-forest-labs/flux-1-schnell", SCHNELL_SCHEMA,
          "FLUX.1 [schnell] is a 12 billion parameter rectified flow transformer capable of generating images from "
          "text descriptions. ", "2024-08-29 16:37:39.541", "9e087485-23dc-47fa-997d-f5bfafc0c7cc",
          {"terms": _BFL}),
    _spec("@cf/leonardo/lucid-origin", LUCID_SCHEMA,
          "Lucid Origin from Leonardo.AI is their most adaptable and prompt-responsive model to date. Whether you're "
          "generating images with sharp graphic design, stunning full-HD renders, or highly specific creative "
          "direction, it adheres closely to your prompts, renders text with accuracy, and supports a wide array of "
          "visual styles and aesthetics \u2013 from stylized concept art to crisp product mockups.\n",
          "2025-08-25 19:21:28.770", "0e372c11-8720-46c9-a02d-666188a22dae",
          {"price": [{"unit": "per 512 by 512 tile", "price": 0.007, "currency": "USD"},
                     {"unit": "per step", "price": 0.000132, "currency": "USD"}],
           "partner": "true", "terms": "https://leonardo.ai/terms-of-service/"}),
    _spec("@cf/leonardo/phoenix-1.0", PHOENIX_SCHEMA,
          "Phoenix 1.0 is a model by Leonardo.Ai that generates images with exceptional prompt adherence and "
          "coherent text.", "2025-08-25 18:12:18.073", "724608fa-983e-495d-b95c-340d6b7e78be",
          {"price": [{"unit": "per 512 by 512 tile", "price": 0.0058, "currency": "USD"},
                     {"unit": "per step", "price": 0.00011, "currency": "USD"}], "partner": "true"}),
    _spec("@cf/black-forest-labs/flux-2-dev", FLUX2_SCHEMA,
          "FLUX.2 [dev] is an image model from Black Forest Labs where you can generate highly realistic and "
          "detailed images, with multi-reference support.", "2025-11-24 15:44:06.050",
          "3ae8936e-593e-4fb2-85ee-95dd8a057588",
          {"terms": _BFL, "partner": "true",
           "price": [{"unit": "per input 512x512 tile, per step", "price": 0.000413, "currency": "USD"},
                     {"unit": "per output 512x512 tile, per step", "price": 0.000825, "currency": "USD"}]},
          family="image-form"),
    _spec("@cf/black-forest-labs/flux-2-klein-4b", FLUX2_SCHEMA,
          "FLUX.2 [klein] is an ultra-fast, distilled image model. It unifies image generation and editing in a "
          "single model, delivering state-of-the-art quality enabling interactive workflows, real-time previews, "
          "and latency-critical applications.", "2026-01-14 12:54:55.024", "5cdffa8e-1b1e-48e8-85f1-ab9b943cdd32",
          {"partner": "true", "terms": _BFL}, family="image-form"),
    _spec("@cf/black-forest-labs/flux-2-klein-9b", FLUX2_SCHEMA,
          "FLUX.2 [klein] 9B is a 9 billion parameter model that can generate images from text descriptions and "
          "supports multi-reference editing capabilities.", "2026-01-14 12:55:54.294",
          "e580c765-810c-4da3-936c-a2808892f14c", {"partner": "true", "terms": _BFL}, family="image-form"),
]


# ---- the pictures ----------------------------------------------------------------------------------


def _digest(model: str, prompt: str, seed: Any, negative: Any, width: int, height: int) -> bytes:
    text = "\0".join((model, prompt, str(seed), str(negative), f"{width}x{height}"))
    return hashlib.sha256(text.encode("utf-8")).digest()


def picture(model: str, prompt: str, width: int, height: int, seed: Any = None, negative: Any = None) -> Image.Image:
    """The image a model makes for these inputs (before any img2img input is blended in)."""
    digest = _digest(model, prompt, seed, negative, width, height)
    if prompt.startswith("[noise]"):
        data = random.Random(digest).randbytes(width * height * 3)
        return Image.frombytes("RGB", (width, height), data)
    gradient = Image.linear_gradient("L").rotate(90 * (digest[6] % 4)).resize((width, height))
    return ImageOps.colorize(gradient, tuple(digest[0:3]), tuple(digest[3:6]))


def encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind.endswith("jpeg"):
        image.save(out, format="JPEG", quality=85)
    else:
        image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _decode(body: dict[str, Any], field: str) -> Image.Image | None:
    raw: bytes | None = None
    if field == "image" and isinstance(body.get("image_b64"), str):
        try:
            raw = base64.b64decode(body["image_b64"], validate=True)
        except ValueError:
            raise ApiError(5004, what="image_b64") from None
    elif isinstance(body.get(field), list):
        values = body[field]
        if not all(isinstance(v, int | float) and 0 <= v <= 255 for v in values):
            raise bad_input(f"{field} must hold byte values from 0 to 255")
        raw = bytes(int(v) for v in values)
    if raw is None:
        return None
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise bad_input(f"{field} is not an image the model can read") from None
    return image


def _size(body: dict[str, Any], default: int, source: Image.Image | None) -> tuple[int, int]:
    width, height = body.get("width"), body.get("height")
    base = source.size if source is not None else (default, default)
    return (width if isinstance(width, int) and width > 0 else base[0],
            height if isinstance(height, int) and height > 0 else base[1])


def render(spec: ModelSpec, body: dict[str, Any]) -> tuple[bytes, str]:
    """The model's output bytes and kind for a schema-valid body."""
    kind, default, needs = BEHAVIOUR[spec.name]
    prompt = str(body["prompt"])
    if "nsfw" in prompt.lower():
        raise ApiError(NSFW_CODE, NSFW_MESSAGE, status=400)
    source = _decode(body, "image")
    mask = _decode(body, "mask")
    if needs and source is None:
        raise bad_input(f"{spec.name} needs an input image ('image' or 'image_b64')")
    if needs == "mask" and mask is None:
        raise bad_input(f"{spec.name} needs a 'mask'")
    width, height = _size(body, default, source)
    made = picture(spec.name, prompt, width, height, body.get("seed"), body.get("negative_prompt"))
    if source is not None:
        base = source.convert("RGB").resize((width, height))
        if mask is not None:
            made = Image.composite(made, base, mask.convert("L").resize((width, height)))
        else:
            strength = body.get("strength", 1)
            made = Image.blend(base, made, max(0.0, min(1.0, float(strength))))
    return encode(made, kind), kind


def reply(data: bytes, kind: str) -> web.Response:
    if kind.startswith("b64-"):
        return success({"image": base64.b64encode(data).decode("ascii")})
    return web.Response(body=data, content_type=f"image/{kind}")


async def _generation_time(faults: Faults) -> None:
    if faults.ttft_ms > 0:
        await asyncio.sleep(faults.ttft_ms / 1000)


async def run_json(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.StreamResponse:
    """The JSON-input models; ``body`` already passed the model's schema."""
    data, kind = render(spec, body)
    await _generation_time(faults)
    return reply(data, kind)


def _form_int(fields: dict[str, str], name: str, low: int, high: int) -> int | None:
    if name not in fields:
        return None
    value = fields[name].strip()
    if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
        raise bad_input(f"{name} must be an integer from {low} to {high}")
    return int(value)


async def run_form(request: web.Request, spec: ModelSpec, raw: bytes, faults: Faults) -> web.StreamResponse:
    """FLUX.2 over REST: a ``multipart/form-data`` body of text fields (prompt, width, height, steps, seed)."""
    if request.content_type != "multipart/form-data":
        raise bad_input(f"{spec.name} takes a multipart/form-data body")
    fields = _parse_form(raw, request.headers.get("Content-Type", ""))
    unknown = set(fields) - FORM_FIELDS - {name for name in fields if name.startswith("input_image")}
    if unknown:
        raise bad_input(f"unknown form field(s): {', '.join(sorted(unknown))}")
    if not fields.get("prompt", "").strip():
        raise bad_input("prompt is required")
    body: dict[str, Any] = {"prompt": fields["prompt"]}
    for name, low, high in (("width", 256, 2048), ("height", 256, 2048), ("steps", 1, 50), ("seed", 0, 2**32 - 1)):
        value = _form_int(fields, name, low, high)
        if value is not None:
            body[name] = value
    data, kind = render(spec, body)
    await _generation_time(faults)
    return reply(data, kind)


def _parse_form(raw: bytes, content_type: str) -> dict[str, str]:
    """Text fields of a multipart body, through the standard library's email parser."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise bad_input("the multipart body could not be parsed")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise bad_input("a form part has no name")
        payload = part.get_payload(decode=True) or b""
        fields[str(name)] = payload.decode("utf-8", errors="replace")
    return fields
