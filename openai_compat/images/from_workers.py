"""Workers AI image replies -> image bytes, and the OpenAI `ImagesResponse`. Pure functions: no I/O.

A model answers with the raw image (Stable Diffusion family, phoenix) or with `{"image": base64}`
(FLUX, lucid-origin), whatever its catalogue says: both are read, and what comes back must be an
image the gateway can decode, whose real type (not the one claimed) is what the client is told.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from openai_compat.errors import UpstreamError
from openai_compat.media.pictures import EXTENSIONS, Size, check_output, convert

MAX_IMAGE_BYTES = 64 * 1024 * 1024
"""A model's image is never this large (a 2048 x 2048 PNG of noise is 12 MB); more is a fault."""


@dataclass(frozen=True)
class Picture:
    data: bytes
    content_type: str
    size: Size

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def decode_result(result: Any) -> bytes:
    """The image of a JSON result `{"image": "<base64>"}` (a data URI prefix is tolerated)."""
    image = result.get("image") if isinstance(result, dict) else None
    if not isinstance(image, str) or not image:
        raise UpstreamError("Workers AI's image result holds no image.")
    if image.startswith("data:"):
        image = image.partition(",")[2]
    try:
        return base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError("Workers AI's image result is not valid base64.") from None


def finish(data: bytes, wanted: str | None, compression: int | None) -> Picture:
    """Check the model's bytes are an image, and convert them when the client asked for another format."""
    content_type, size = check_output(data)
    if wanted and wanted != content_type:
        data = convert(data, content_type, wanted, quality=compression)
        content_type = wanted
    return Picture(data, content_type, size)


def images_response(created: int, items: list[dict[str, str]], content_type: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"created": created, "data": items}
    if content_type:
        body["output_format"] = EXTENSIONS[content_type]
    return body
