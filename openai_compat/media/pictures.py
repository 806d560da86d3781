"""Images in and out of the gateway, through Pillow: uploads checked and decoded, inputs sized for a
model, masks turned from OpenAI's convention into Workers AI's, outputs checked and converted.

Every decode is guarded: the pixel count is read from the header and checked before a pixel is
decoded (a decompression bomb is refused, not expanded), and only PNG, JPEG and WebP are opened,
so no other Pillow decoder ever sees a client's bytes.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from openai_compat.errors import InvalidRequestError, UpstreamError

MAX_PIXELS = 40_000_000
"""Largest image the gateway decodes (about 6300 x 6300): far above what any model takes."""
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
CONTENT_TYPES = {content_type: name for name, content_type in FORMATS.items()}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}

# Pillow's own bomb guard raises only past twice its limit and warns below; the explicit check in
# `_open` is the one that counts, this keeps Pillow's guard at the same figure.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Size:
    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def sniff(data: bytes) -> str | None:
    """The content type the bytes start like, from their signature; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _open(source: IO[bytes] | bytes, max_pixels: int) -> Image.Image:
    """Open and decode PNG, JPEG or WebP; ValueError says why not (the caller names the field)."""
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=list(FORMATS))
            if image.width * image.height > max_pixels:
                raise ValueError(f"it is {image.width}x{image.height} pixels, more than the {max_pixels} allowed")
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError("it is not a PNG, JPEG or WebP image, or it is too large") from None
    except (OSError, SyntaxError, EOFError) as exc:
        raise ValueError(f"the image could not be decoded ({exc})") from None
    return image


def refuse_bombs(data: bytes, param: str, max_pixels: int = MAX_PIXELS) -> None:
    """An image the gateway passes on without decoding it (vision inputs): its header must not declare
    more pixels than any model takes. Only the header is read; a format Pillow does not know is left to
    the model to judge."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                pixels = image.width * image.height
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        pixels = max_pixels + 1
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError):
        return
    if pixels > max_pixels:
        raise InvalidRequestError(
            f"The image in '{param}' declares {pixels} pixels, more than the {max_pixels} any model takes.",
            param=param, code="invalid_image_format",
        )


def open_upload(source: IO[bytes] | bytes, param: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """A client's image, decoded; a 400 naming `param` when it is not one we can read."""
    try:
        return _open(source, max_pixels)
    except ValueError as exc:
        raise InvalidRequestError(
            f"Invalid image in '{param}': {exc}. Upload a PNG, JPEG or WebP image.",
            param=param,
            code="invalid_image_format",
        ) from None


def check_output(data: bytes) -> tuple[str, Size]:
    """A model's output: its real content type and size, or a 502 when it is not a decodable image."""
    try:
        image = _open(data, MAX_PIXELS)
    except ValueError as exc:
        raise UpstreamError(f"Workers AI returned an image the gateway cannot read: {exc}.") from None
    return FORMATS[str(image.format)], Size(image.width, image.height)


def fit(width: int, height: int, *, longest: int, smallest: int, largest: int, multiple: int) -> Size:
    """The input's aspect ratio at a size a model takes: the longer side at most `longest`, both
    sides within [smallest, largest] and multiples of `multiple` (diffusion models work in 8- or
    16-pixel latent blocks)."""
    scale = min(1.0, longest / max(width, height))
    w, h = width * scale, height * scale
    grow = max(1.0, smallest / min(w, h))
    w, h = w * grow, h * grow

    def snap(value: float) -> int:
        snapped = max(multiple, round(value / multiple) * multiple)
        return max(smallest, min(largest - largest % multiple, snapped))

    return Size(snap(w), snap(h))


def as_model_input(image: Image.Image, size: Size) -> bytes:
    """The image as an opaque RGB PNG of `size`, what img2img models read."""
    rgb = ImageOps.exif_transpose(image).convert("RGB")
    if rgb.size != (size.width, size.height):
        rgb = rgb.resize((size.width, size.height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="PNG")
    return out.getvalue()


def inpainting_mask(mask: Image.Image, image: Image.Image, size: Size) -> bytes:
    """OpenAI's mask (transparent where the image is to be edited, the image's own size) as Workers
    AI's: a greyscale PNG, white where to paint, black where to keep. A 400 naming `mask` when it
    cannot mean anything for this image."""
    if mask.size != image.size:
        raise InvalidRequestError(
            f"The mask is {mask.width}x{mask.height} but the image is {image.width}x{image.height}: "
            "they must be the same size.",
            param="mask",
            code="invalid_mask",
        )
    if "A" not in mask.getbands() and not (mask.mode == "P" and "transparency" in mask.info):
        raise InvalidRequestError(
            "The mask has no alpha channel: its transparent areas mark where to edit, so it must be a PNG "
            "with transparency.",
            param="mask",
            code="invalid_mask",
        )
    alpha = mask.convert("RGBA").getchannel("A")
    paint = alpha.point(lambda value: 255 if value == 0 else 0)
    if paint.getbbox() is None:
        raise InvalidRequestError(
            "The mask is fully opaque, so it marks nothing to edit: make the areas to edit transparent.",
            param="mask",
            code="invalid_mask",
        )
    if paint.size != (size.width, size.height):
        paint = paint.resize((size.width, size.height), Image.Resampling.NEAREST)
    out = io.BytesIO()
    paint.save(out, format="PNG")
    return out.getvalue()


def convert(data: bytes, content_type: str, wanted: str, quality: int | None = None) -> bytes:
    """The image re-encoded as `wanted` (a content type; `quality` 0-100 for JPEG and WebP); the same
    bytes when it already is."""
    if content_type == wanted:
        return data
    image = _open(data, MAX_PIXELS)
    if wanted == "image/jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    options = {} if wanted == "image/png" else {"quality": 90 if quality is None else max(1, quality)}
    image.save(out, format=CONTENT_TYPES[wanted], **options)
    return out.getvalue()
