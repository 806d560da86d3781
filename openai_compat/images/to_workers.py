"""OpenAI image requests -> Workers AI model inputs. Pure functions: no Flask, no I/O.

Everything a request can get wrong is refused here with a 400 naming the field, before any upstream
call, so a request with `n` images either fails whole up front or is sent in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from openai_compat.core.metering import Usage
from openai_compat.core.pricing import tiles
from openai_compat.errors import InvalidRequestError
from openai_compat.images.profiles import MAX_PIXELS_OUT, ImageModel, prompt_limit
from openai_compat.images.protocol import CommonFields, GenerationRequest
from openai_compat.media.pictures import Size
from openai_compat.upstream.body import Body, json_body, multipart_body

_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
VARIATION_PROMPT = "A variation of this image: the same subject, composition, colours and style."
EDIT_STRENGTH = 0.75
VARIATION_STRENGTH = 0.6
INPAINT_STRENGTH = 1.0
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def _refuse(message: str, param: str, code: str = "invalid_value") -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code=code)


def check_options(req: CommonFields) -> None:
    """OpenAI options Workers AI cannot honour are refused rather than silently dropped."""
    if req.stream:
        raise _refuse("Streaming image generation is not supported: Workers AI returns each image whole.",
                      "stream", "unsupported_value")
    if req.background == "transparent":
        raise _refuse("Workers AI's image models cannot make transparent backgrounds; use 'opaque' or 'auto'.",
                      "background", "unsupported_value")


def check_prompt(prompt: str, requested: str, spec: ImageModel) -> None:
    limit = prompt_limit(requested, spec)
    if len(prompt) > limit:
        raise _refuse(f"'prompt' is {len(prompt)} characters long; `{requested}` takes at most {limit}.",
                      "prompt", "string_above_max_length")
    if not prompt.strip():
        raise _refuse("'prompt' must not be blank.", "prompt")


def parse_size(raw: str | None, spec: ImageModel, model: str) -> Size | None:
    """The output size to ask for; None where the model makes a single size (or the default is
    wanted from a model the gateway does not know). A 400 naming `size` for anything it cannot make."""
    if raw is None or raw == "auto":
        if spec.default_size is None or not spec.known:
            return None
        return Size(*spec.default_size)
    match = _SIZE.match(raw)
    if not match:
        raise _refuse(f"Invalid 'size' {raw!r}: use 'auto' or WIDTHxHEIGHT, such as '1024x1024'.", "size")
    size = Size(int(match.group(1)), int(match.group(2)))
    if spec.default_size is None:
        fixed = Size(*spec.fixed_size)
        if size != fixed:
            raise _refuse(f"`{model}` makes {fixed} images only; 'size' must be '{fixed}' or 'auto'.", "size",
                          "unsupported_value")
        return None
    low, high, step = spec.min_side, spec.max_side, spec.multiple
    if not (low <= size.width <= high and low <= size.height <= high):
        raise _refuse(f"'size' {size} is outside what `{model}` makes: each side from {low} to {high} pixels.",
                      "size", "unsupported_value")
    if size.width % step or size.height % step:
        raise _refuse(f"'size' {size} does not suit `{model}`: both sides must be multiples of {step}.",
                      "size", "unsupported_value")
    if size.width * size.height > MAX_PIXELS_OUT:
        raise _refuse(f"'size' {size} is larger than the {MAX_PIXELS_OUT} pixels the gateway asks a model for.",
                      "size", "unsupported_value")
    return size


def _steps(req: CommonFields, spec: ImageModel, model: str) -> int | None:
    if req.num_steps is not None:
        if spec.steps_field is None:
            raise _refuse(f"`{model}` takes no step count.", "num_steps", "unsupported_parameter")
        low, high = spec.steps_range
        if not low <= req.num_steps <= high:
            raise _refuse(f"'num_steps' must be from {low} to {high} for `{model}`.", "num_steps")
        return req.num_steps
    if spec.steps_field is None or req.quality is None:
        return None
    return spec.quality_steps.get(req.quality)


def _guidance(req: CommonFields, style: str | None, spec: ImageModel, model: str) -> float | None:
    if req.guidance is not None:
        if spec.guidance_range is None:
            raise _refuse(f"`{model}` takes no guidance value.", "guidance", "unsupported_parameter")
        low, high = spec.guidance_range
        if not low <= req.guidance <= high:
            raise _refuse(f"'guidance' must be from {low:g} to {high:g} for `{model}`.", "guidance")
        return float(req.guidance)
    return spec.style_guidance.get(style) if style else None


@dataclass(frozen=True)
class Plan:
    """What each of a request's `n` upstream calls sends; only the seed differs between them."""

    form: str
    fields: dict[str, Any]
    seed: int | None
    size: Size | None
    images: dict[str, bytes] = field(default_factory=dict)
    """img2img inputs (`image`, `mask`): PNG bytes, sent as Workers AI's byte arrays."""
    steps: int | None = None
    """The steps each image takes: those sent, or the model's default (None when unknown)."""
    input_size: Size | None = None

    def usage(self, images: int, output: Size) -> Usage:
        """What the images cost in the units Workers AI prices them by (per image, step and tile)."""
        return Usage(images=images, steps_per_image=self.steps or 0, tiles_per_image=tiles(output.width, output.height),
                     input_tiles_per_image=tiles(self.input_size.width, self.input_size.height)
                     if self.input_size is not None else 0)

    def body(self, index: int) -> Body:
        fields = dict(self.fields)
        if self.seed is not None:
            fields["seed"] = (self.seed + index) % 2**32  # n images from one seed would be n copies
        if self.form == "multipart":
            return multipart_body([(name, str(value)) for name, value in fields.items()])
        for name, data in self.images.items():
            fields[name] = list(data)
        return json_body(fields)


def _plan(req: CommonFields, prompt: str, style: str | None, spec: ImageModel, model: str,
          size: Size | None) -> Plan:
    fields: dict[str, Any] = {"prompt": prompt}
    if size is not None:
        fields.update(width=size.width, height=size.height)
    steps = _steps(req, spec, model)
    if steps is not None and spec.steps_field:
        fields[spec.steps_field] = steps
    guidance = _guidance(req, style, spec, model)
    if guidance is not None:
        fields["guidance"] = guidance
    if req.negative_prompt is not None:
        if not spec.negative_prompt:
            raise _refuse(f"`{model}` takes no negative prompt.", "negative_prompt", "unsupported_parameter")
        if req.negative_prompt.strip():
            fields["negative_prompt"] = req.negative_prompt
    if req.seed is not None and not spec.seed:
        raise _refuse(f"`{model}` takes no seed.", "seed", "unsupported_parameter")
    return Plan(spec.form, fields, req.seed, size, steps=steps if steps is not None else spec.default_steps)


def generation_plan(req: GenerationRequest, requested: str, spec: ImageModel) -> Plan:
    check_options(req)
    check_prompt(req.prompt, requested, spec)
    if req.strength is not None:
        raise _refuse("'strength' applies to edits and variations only.", "strength", "unsupported_parameter")
    size = parse_size(req.size, spec, requested)
    return _plan(req, req.prompt, req.style, spec, requested, size)


def image_plan(req: CommonFields, *, prompt: str | None, spec: ImageModel, model: str, size: Size,
               image: bytes, mask: bytes | None) -> Plan:
    """An edit (prompt, optional mask) or a variation (no prompt) of an image already sized for the model."""
    check_options(req)
    if prompt is not None:
        check_prompt(prompt, model, spec)
    plan = _plan(req, prompt or VARIATION_PROMPT, None, spec, model, size)
    default = INPAINT_STRENGTH if mask is not None else EDIT_STRENGTH if prompt is not None else VARIATION_STRENGTH
    fields = {**plan.fields, "strength": req.strength if req.strength is not None else default}
    images = {"image": image} if mask is None else {"image": image, "mask": mask}
    return replace(plan, fields=fields, images=images, input_size=size)


def wanted_content_type(req: CommonFields) -> str | None:
    """The output format the client asked for, or None to keep the model's own."""
    return CONTENT_TYPES[req.output_format] if req.output_format else None
