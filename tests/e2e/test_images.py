"""Images end to end: the official SDK -> gunicorn-served gateway -> Workers AI emulator, with the images
kept once in a local directory and once in R2 (moto's S3 server), and every link downloaded."""

from __future__ import annotations

import base64
import io
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import openai
import pytest
import requests
from PIL import Image

from harness import processes
from openai_compat.media.links import LinkSigner, new_key
from openai_compat.storage.local import LocalStore
from tests.support.emulator import EmulatorHandle, running
from tests.support.gateway import GatewayHandle, start_gateway
from tests.support.openai_spec import assert_valid
from tests.support.s3_proxy import FlakyS3Proxy

SECRET = "e2e-image-link-signing-secret"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


@dataclass
class ImageSetup:
    gateway: GatewayHandle
    backend: str
    storage_dir: Path | None = None
    bucket: str | None = None
    moto_url: str | None = None

    def client(self, **kwargs: object) -> openai.OpenAI:
        """An SDK client closed at the end of the module: an open keep-alive connection would hold the
        gateway's graceful shutdown for seconds."""
        made = self.gateway.client(**kwargs)
        self.clients.append(made)
        return made

    clients: list[openai.OpenAI] = field(default_factory=list)

    def close(self) -> None:
        for made in self.clients:
            made.close()

    def stored_keys(self) -> list[str]:
        if self.storage_dir is not None:
            return [info.key for info in LocalStore(self.storage_dir).list("images/")]
        listing = s3(self.moto_url or "").list_objects_v2(Bucket=self.bucket, Prefix="images/")
        return [item["Key"] for item in listing.get("Contents", [])]


def s3(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=processes.MOTO_ACCESS_KEY, aws_secret_access_key=processes.MOTO_SECRET_KEY)


@pytest.fixture(scope="module")
def moto() -> Iterator[processes.Service]:
    with running(processes.start_moto, "moto") as service:
        yield service


def r2_env(url: str, bucket: str) -> dict[str, str]:
    return {"STORAGE_BACKEND": "r2", "R2_ENDPOINT_URL": url, "R2_BUCKET": bucket,
            "R2_ACCESS_KEY_ID": processes.MOTO_ACCESS_KEY, "R2_SECRET_ACCESS_KEY": processes.MOTO_SECRET_KEY}


@pytest.fixture(scope="module", params=["local", "r2"])
def setup(request: pytest.FixtureRequest, emulator: EmulatorHandle) -> Iterator[ImageSetup]:
    common = {"URL_SIGNING_SECRET": SECRET, "WEB_CONCURRENCY": "2"}  # a link made by one worker works on the other
    if request.param == "local":
        folder = Path(tempfile.mkdtemp(prefix="images-store-"))
        try:
            with start_gateway(emulator, STORAGE_DIR=str(folder), **common) as gateway:
                made = ImageSetup(gateway, "local", storage_dir=folder)
                yield made
                made.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        moto = request.getfixturevalue("moto")
        bucket = f"images-{uuid.uuid4().hex[:10]}"
        processes.create_bucket(moto, bucket)
        with start_gateway(emulator, **r2_env(moto.url, bucket), **common) as gateway:
            made = ImageSetup(gateway, "r2", bucket=bucket, moto_url=moto.url)
            yield made
            made.close()


def download(url: str, content_type: str) -> Image.Image:
    response = requests.get(url, timeout=30)  # no API key: the signature is the credential
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == content_type
    assert int(response.headers["Content-Length"]) == len(response.content)
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_generate_urls_from_a_raw_png_model(setup: ImageSetup) -> None:
    client = setup.client()
    result = client.images.generate(model="dall-e-2", prompt="a lighthouse at dusk", size="512x768")
    assert len(result.data) == 1 and result.data[0].url
    assert result.data[0].url.startswith(setup.gateway.url + "/v1/images/")
    image = download(result.data[0].url, "image/png")
    assert (image.format, image.size) == ("PNG", (512, 768))
    assert any(key.endswith(".png") for key in setup.stored_keys())


def test_generate_b64_json_from_a_base64_model(setup: ImageSetup) -> None:
    result = setup.client().images.generate(model="dall-e-3", prompt="a fox", response_format="b64_json")
    image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json or "")))
    assert (image.format, image.size) == ("JPEG", (1024, 1024))


def test_generate_three_from_a_multipart_model(setup: ImageSetup) -> None:
    before = set(setup.stored_keys())
    result = setup.client().images.generate(model="gpt-image-1", prompt="three owls", n=3, size="1024x768",
                                                    extra_body={"seed": 11})
    assert len(result.data) == 3
    images = [download(item.url or "", "image/png") for item in result.data]
    assert all(image.size == (1024, 768) for image in images)
    assert len(set(setup.stored_keys()) - before) == 3
    assert len({image.tobytes() for image in images}) == 3, "seeds 11, 12, 13 make three different images"


def test_the_raw_response_matches_openais_spec(setup: ImageSetup) -> None:
    response = requests.post(f"{setup.gateway.base_url}/images/generations", timeout=30,
                             headers={"Authorization": f"Bearer {setup.gateway.api_key}"},
                             json={"prompt": "a kite", "model": "@cf/leonardo/phoenix-1.0", "size": "512x512"})
    assert response.status_code == 200, response.text
    assert_valid("ImagesResponse", response.json())
    download(response.json()["data"][0]["url"], "image/jpeg")


@pytest.mark.parametrize(("size", "model"), [("100x100", "dall-e-2"), ("1024x1536", "dall-e-3"), ("big", None)])
def test_invalid_sizes_are_a_400_naming_size(setup: ImageSetup, size: str, model: str | None) -> None:
    kwargs = {"model": model} if model else {}
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client(max_retries=0).images.generate(prompt="x", size=size, **kwargs)  # type: ignore[arg-type]
    assert caught.value.body["param"] == "size"  # type: ignore[index]


def png_bytes(size: tuple[int, int], mode: str = "RGB", color: object = (20, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format="PNG")  # type: ignore[arg-type]
    return out.getvalue()


def test_edit_without_and_with_a_mask(setup: ImageSetup) -> None:
    client = setup.client()
    source = png_bytes((640, 480))
    edited = client.images.edit(image=("photo.png", source, "image/png"), prompt="make it sunset", n=1)
    assert download(edited.data[0].url or "", "image/png").size == (512, 384)
    mask = Image.new("RGBA", (640, 480), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 320, 480))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    painted = client.images.edit(image=("photo.png", source, "image/png"),
                                 mask=("mask.png", out.getvalue(), "image/png"), prompt="a red balloon",
                                 size="512x384", response_format="b64_json")
    image = Image.open(io.BytesIO(base64.b64decode(painted.data[0].b64_json or ""))).convert("RGB")
    assert image.size == (512, 384)
    assert image.getpixel((500, 380)) == (20, 120, 200), "outside the mask the image is kept"
    assert image.getpixel((5, 5)) != (20, 120, 200)
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=("photo.png", source, "image/png"), prompt="x",
                           mask=("mask.png", png_bytes((10, 10), "RGBA", (0, 0, 0, 0)), "image/png"))
    assert caught.value.body["param"] == "mask"  # type: ignore[index]


def test_create_variation(setup: ImageSetup) -> None:
    result = setup.client().images.create_variation(image=("cat.png", png_bytes((300, 300)), "image/png"),
                                                            n=2, size="512x512")
    assert [download(item.url or "", "image/png").size for item in result.data] == [(512, 512), (512, 512)]


def test_expired_and_tampered_links_are_refused(setup: ImageSetup) -> None:
    result = setup.client().images.generate(model="dall-e-2", prompt="a boat", size="256x256")
    url = result.data[0].url or ""
    parts = urlsplit(url)
    key = "images/" + parts.path.split("/v1/images/", 1)[1]
    tampered = url.replace("signature=", "signature=x")
    refused = requests.get(tampered, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "invalid_signature"
    stale = f"{setup.gateway.url}{parts.path}?{LinkSigner(SECRET.encode()).query(key, 60, now=time.time() - 3600)}"
    expired = requests.get(stale, timeout=10)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "link_expired"
    missing = requests.get(url.replace(key.rsplit("/", 1)[1][:8], "AAAAAAAA"), timeout=10)
    assert missing.status_code == 403  # another key: the signature no longer matches
    etag = requests.get(url, timeout=10).headers["ETag"]
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=10).status_code == 304


def test_content_policy_refusal(setup: ImageSetup) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client(max_retries=0).images.generate(model="dall-e-3", prompt="an nsfw picture")
    assert caught.value.code == "content_policy_violation"


def test_presigned_links_are_served_by_r2_itself(emulator: EmulatorHandle, moto: processes.Service) -> None:
    bucket = f"presigned-{uuid.uuid4().hex[:10]}"
    processes.create_bucket(moto, bucket)
    with start_gateway(emulator, **r2_env(moto.url, bucket), IMAGE_URL_MODE="presigned") as gateway, \
            gateway.client() as client:
        result = client.images.generate(model="dall-e-2", prompt="a harbour", size="256x256", n=2)
    for item in result.data:
        assert (item.url or "").startswith(f"{moto.url}/{bucket}/images/") and "Signature=" in (item.url or "")
        assert download(item.url or "", "image/png").size == (256, 256)


# ---- a storage outage in the middle of a request -----------------------------------------------------


def test_a_storage_outage_mid_request_is_a_502_and_leaves_no_object(
    emulator: EmulatorHandle, moto: processes.Service
) -> None:
    bucket = f"outage-{uuid.uuid4().hex[:10]}"
    processes.create_bucket(moto, bucket)
    proxy = FlakyS3Proxy(moto.url, fail_after=10**9)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        env = {**r2_env(proxy.url, bucket), "URL_SIGNING_SECRET": SECRET, "IMAGES_MAX_CONCURRENCY": "1",
               "STORAGE_TIMEOUT_SECONDS": "2"}
        with start_gateway(emulator, **env) as gateway:
            proxy.fail_after, proxy.puts = 2, 0  # the second image's write is the last the store takes
            with pytest.raises(openai.InternalServerError) as caught, gateway.client(max_retries=0) as client:
                client.images.generate(model="dall-e-2", prompt="a storm", n=3, size="256x256")
            assert caught.value.status_code == 502 and caught.value.code == "storage_error"
            assert proxy.puts == 2
            written = [o["Key"] for o in s3(moto.url).list_objects_v2(Bucket=bucket).get("Contents", [])]
            assert len(written) == 2, "both objects reached the store before it went down"
            proxy.up()
            deadline = time.monotonic() + 30
            while written and time.monotonic() < deadline:
                time.sleep(0.25)
                written = [o["Key"] for o in s3(moto.url).list_objects_v2(Bucket=bucket).get("Contents", [])]
            assert written == [], "the gateway deletes what a failed request wrote once the store is back"
    finally:
        proxy.shutdown()
        proxy.server_close()


# ---- memory while serving large images ----------------------------------------------------------------


def peak_rss_kb(pids: list[int]) -> int:
    """The workers' high-water mark of resident memory (freed buffers do not hide a peak)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def test_serving_large_images_keeps_worker_memory_flat(emulator: EmulatorHandle) -> None:
    folder = Path(tempfile.mkdtemp(prefix="images-big-"))
    try:
        store = LocalStore(folder)
        data = Image.frombytes("RGB", (2048, 2048), bytes(range(256)) * (2048 * 2048 * 3 // 256))
        out = io.BytesIO()
        data.save(out, format="PNG", compress_level=0)
        blob = out.getvalue()
        assert len(blob) > 10 * 1024 * 1024
        key = new_key("png")
        store.put(key, blob, content_type="image/png")
        with start_gateway(emulator, STORAGE_DIR=str(folder), URL_SIGNING_SECRET=SECRET, WEB_CONCURRENCY="1") as gw:
            url = f"{gw.url}/v1/images/{key.removeprefix('images/')}?{LinkSigner(SECRET.encode()).query(key, 600)}"
            workers = processes.children(gw.process.pid)

            def fetch() -> int:
                with requests.get(url, stream=True, timeout=60) as response:
                    return sum(len(chunk) for chunk in response.iter_content(256 * 1024))

            assert fetch() == len(blob)  # warm-up: imports, pools
            before = peak_rss_kb(workers)
            results: list[int] = []
            threads = [threading.Thread(target=lambda: results.append(fetch())) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            after = peak_rss_kb(workers)
            assert results == [len(blob)] * 6
            # Six 12 MB images in flight at once: held whole they would add 70 MB; streamed, a few chunks each.
            assert after - before < 16 * 1024, f"worker peak RSS grew {after - before} kB serving 6 x {len(blob)} bytes"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
