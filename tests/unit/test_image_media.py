"""Images decoded and converted (Pillow, with its pixel limit), signed links, and the deletion of a
failed request's objects that outlasts a storage outage."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from PIL import Image

from openai_compat.errors import InvalidRequestError, UpstreamError
from openai_compat.media.links import LinkSigner, new_key
from openai_compat.media.pictures import (
    Size,
    as_model_input,
    check_output,
    convert,
    fit,
    inpainting_mask,
    open_upload,
    sniff,
)
from openai_compat.storage import check_key, redacted
from openai_compat.storage.base import StorageError
from openai_compat.storage.housekeeping import Housekeeper
from openai_compat.storage.local import LocalStore


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def rgba_mask(size: tuple[int, int], hole: tuple[int, int, int, int] | None) -> Image.Image:
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    if hole:
        mask.paste((0, 0, 0, 0), hole)
    return mask


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_uploads_are_decoded(fmt: str) -> None:
    image = open_upload(io.BytesIO(encoded(Image.new("RGB", (40, 30), "red"), fmt)), "image")
    assert image.size == (40, 30)


@pytest.mark.parametrize("data", [b"not an image", encoded(Image.new("RGB", (4, 4)), "GIF"),
                                  encoded(Image.new("RGB", (40, 40)))[:60]])
def test_other_bytes_are_a_400_naming_the_field(data: bytes) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        open_upload(io.BytesIO(data), "mask")
    assert caught.value.param == "mask" and caught.value.code == "invalid_image_format"


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = encoded(Image.new("L", (5000, 5000)))  # 25 MP of zeros: a few KB of PNG
    assert len(bomb) < 100_000
    with pytest.raises(InvalidRequestError) as caught:
        open_upload(bomb, "image", max_pixels=10_000_000)
    assert "5000x5000" in caught.value.message


def test_inputs_are_fitted_to_a_models_limits_keeping_their_shape() -> None:
    assert fit(3000, 2000, longest=1024, smallest=256, largest=2048, multiple=8) == Size(1024, 680)
    assert fit(100, 50, longest=512, smallest=256, largest=2048, multiple=8) == Size(512, 256)
    assert fit(512, 512, longest=512, smallest=256, largest=2048, multiple=64) == Size(512, 512)
    assert fit(5000, 5000, longest=2500, smallest=256, largest=2500, multiple=16) == Size(2496, 2496)
    prepared = Image.open(io.BytesIO(as_model_input(Image.new("RGBA", (300, 200)), Size(512, 344))))
    assert prepared.size == (512, 344) and prepared.mode == "RGB" and prepared.format == "PNG"


def test_openai_mask_becomes_workers_ai_mask() -> None:
    image = Image.new("RGB", (200, 100))
    mask = inpainting_mask(rgba_mask((200, 100), (0, 0, 100, 100)), image, Size(400, 200))
    painted = Image.open(io.BytesIO(mask))
    assert painted.size == (400, 200) and painted.mode == "L"
    assert painted.getpixel((10, 10)) == 255, "transparent in OpenAI's mask = paint here"
    assert painted.getpixel((390, 190)) == 0


@pytest.mark.parametrize(("mask", "says"), [
    (rgba_mask((100, 100), (0, 0, 50, 50)), "same size"),
    (Image.new("RGB", (200, 100)), "alpha"),
    (rgba_mask((200, 100), None), "fully opaque"),
])
def test_a_mask_that_does_not_fit_the_image_is_a_400_naming_mask(mask: Image.Image, says: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        inpainting_mask(mask, Image.new("RGB", (200, 100)), Size(200, 104))
    assert caught.value.param == "mask" and says in caught.value.message


def test_outputs_are_checked_and_converted() -> None:
    png = encoded(Image.new("RGB", (64, 32), "blue"))
    assert check_output(png) == ("image/png", Size(64, 32))
    with pytest.raises(UpstreamError):
        check_output(b"\x89PNG\r\n\x1a\n garbage")
    jpeg = convert(png, "image/png", "image/jpeg", quality=50)
    assert sniff(jpeg) == "image/jpeg" and Image.open(io.BytesIO(jpeg)).size == (64, 32)
    assert sniff(convert(png, "image/png", "image/webp")) == "image/webp"
    assert convert(png, "image/png", "image/png") is png


def test_keys_are_dated_and_unguessable() -> None:
    keys = {new_key("png") for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        assert re.fullmatch(r"images/\d{4}/\d{2}/\d{2}/[A-Za-z0-9_-]{32}\.png", key) and check_key(key) == key
    assert "..." in redacted(next(iter(keys))) and len(redacted(next(iter(keys)))) < 30


def test_signed_links_verify_on_any_signer_with_the_secret_and_nowhere_else() -> None:
    one, other, stranger = LinkSigner(b"s" * 32), LinkSigner(b"s" * 32), LinkSigner(b"t" * 32)
    key = "images/2026/01/01/abc.png"
    query = dict(part.split("=") for part in one.query(key, 60).split("&"))
    assert other.verify(key, query["expires"], query["signature"]) is None
    assert stranger.verify(key, query["expires"], query["signature"]) == "invalid"
    assert other.verify("images/2026/01/01/abd.png", query["expires"], query["signature"]) == "invalid"
    assert other.verify(key, str(int(query["expires"]) + 1), query["signature"]) == "invalid"
    assert other.verify(key, query["expires"], None) == "missing"
    assert other.verify(key, query["expires"], query["signature"], now=time.time() + 61) == "expired"
    with pytest.raises(ValueError):
        LinkSigner(b"short")


class FlakyStore(LocalStore):
    """A local store whose deletes fail while `down` is set."""

    down = False

    def delete(self, key: str) -> None:
        if self.down:
            raise StorageError("store unreachable")
        super().delete(key)


def test_objects_of_a_failed_request_are_deleted_once_the_store_is_back(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path)
    keys = [new_key("png") for _ in range(3)]
    for key in keys:
        store.put(key, b"x", content_type="image/png")
    keeper = Housekeeper(store, first_retry_seconds=0.05)
    store.down = True
    keeper.discard(keys)
    assert keeper.pending() == 3 and len(list(store.list("images/"))) == 3
    time.sleep(0.2)
    assert keeper.pending() == 3  # still down: kept, not dropped
    store.down = False
    deadline = time.monotonic() + 10
    while keeper.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keeper.pending() == 0 and list(store.list("images/")) == []


def test_the_local_backend_removes_expired_images(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    old, fresh = new_key("png"), new_key("png")
    store.put(old, b"old", content_type="image/png")
    store.put(fresh, b"new", content_type="image/png")
    path = tmp_path / "objects" / old
    stamp = time.time() - 3 * 86400
    os.utime(path, (stamp, stamp))
    keeper = Housekeeper(store, sweep_prefix="images/", retention_seconds=2 * 86400)
    keeper.start_sweeping()
    deadline = time.monotonic() + 10
    while store.head(old) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.head(old) is None and store.head(fresh) is not None
