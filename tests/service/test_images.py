"""The Images family in-process: upstream forms, all-or-nothing `n`, storage faults, links and retrieval."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from openai_compat.media.links import LinkSigner, new_key
from openai_compat.storage.base import StorageError
from openai_compat.storage.local import LocalStore
from openai_compat.web.services import EXTENSION_KEY
from tests.service.conftest import AUTH, Gateway, envelope, failure
from tests.support.openai_spec import assert_valid
from tests.unit.factories import run_url

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
SCHNELL = "@cf/black-forest-labs/flux-1-schnell"
KLEIN = "@cf/black-forest-labs/flux-2-klein-4b"
IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img"
INPAINT = "@cf/runwayml/stable-diffusion-v1-5-inpainting"
SECRET = "service-test-signing-secret"


def png(size: tuple[int, int] = (64, 64), color: str = "red", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def storage_root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def settings_overrides(storage_root: Path) -> dict[str, Any]:
    return {"storage_dir": str(storage_root), "url_signing_secret": SECRET, "images_max_concurrency": 1,
            "model_aliases": {"dall-e-2": SDXL, "dall-e-3": SCHNELL}}


def stored(root: Path) -> list[str]:
    return [info.key for info in LocalStore(root).list("images/")]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_generation_stores_each_image_before_answering_with_links(gateway: Gateway, storage_root: Path) -> None:
    gateway.upstream.post(run_url(SDXL), body=png((512, 512)), content_type="image/png")
    response = gateway.post("/v1/images/generations", {"prompt": "a fox", "model": "dall-e-2", "n": 2,
                                                       "size": "512x512"})
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert_valid("ImagesResponse", body)
    response.close()  # the access line is written when the response is closed
    [line] = gateway.logs.events("request", logger="openai_compat.access")
    assert line["images"] == 2 and line["model"] == "dall-e-2"
    assert len(body["data"]) == 2 and body["output_format"] == "png"
    assert response.headers["x-workers-ai-model"] == SDXL
    assert len(stored(storage_root)) == 2
    sent = json.loads(gateway.runs(SDXL)[0].request.body)
    assert (sent["width"], sent["height"], sent["prompt"]) == (512, 512, "a fox")
    for item in body["data"]:
        assert item["url"].startswith("http://localhost/v1/images/")
        image = gateway.client.get(path_of(item["url"]))  # no API key: the signature is the credential
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(image.data)).size == (512, 512)


def test_b64_json_answers_from_json_models_and_stores_nothing(gateway: Gateway, storage_root: Path) -> None:
    jpeg = png((1024, 1024), "blue", "JPEG")
    gateway.upstream.post(run_url(SCHNELL), json=envelope({"image": base64.b64encode(jpeg).decode()}))
    response = gateway.post("/v1/images/generations", {"prompt": "a fox", "model": "dall-e-3",
                                                       "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert_valid("ImagesResponse", body)
    assert base64.b64decode(body["data"][0]["b64_json"]) == jpeg and body["output_format"] == "jpeg"
    assert stored(storage_root) == []


def test_flux2_is_sent_a_multipart_form(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(KLEIN), json=envelope({"image": base64.b64encode(png()).decode()}))
    response = gateway.post("/v1/images/generations", {"prompt": "a fox", "size": "768x512",
                                                       "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    sent = gateway.runs(KLEIN)[0].request
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="width"\r\n\r\n768' in sent.body and b'name="prompt"\r\n\r\na fox' in sent.body


def test_one_failed_image_fails_the_request_and_removes_the_others(gateway: Gateway, storage_root: Path) -> None:
    gateway.upstream.post(run_url(SDXL), body=png(), content_type="image/png")
    gateway.upstream.post(run_url(SDXL), body=png(), content_type="image/png")
    gateway.upstream.post(run_url(SDXL), status=500, json=failure(3043, "Internal server error"))
    response = gateway.post("/v1/images/generations", {"prompt": "a fox", "model": "dall-e-2", "n": 3})
    assert response.status_code == 502 and response.get_json()["error"]["type"] == "server_error"
    assert len(gateway.runs(SDXL)) == 3
    assert stored(storage_root) == [], "objects written for a failed request must not stay"


def test_a_storage_outage_never_yields_a_link(gateway: Gateway, storage_root: Path) -> None:
    gateway.upstream.post(run_url(SDXL), body=png(), content_type="image/png")
    store = gateway.app.extensions[EXTENSION_KEY].storage
    real_put, calls = store.put, []

    def failing_put(key: str, data: Any, **kwargs: Any) -> Any:
        calls.append(key)
        if len(calls) == 2:
            raise StorageError("Could not store it (connection refused).")
        return real_put(key, data, **kwargs)

    store.put = failing_put
    response = gateway.post("/v1/images/generations", {"prompt": "a fox", "model": "dall-e-2", "n": 3})
    assert response.status_code == 502, response.text
    error = response.get_json()["error"]
    assert error["code"] == "storage_error" and "url" not in response.text
    assert stored(storage_root) == []


def test_content_policy_refusals_are_openai_shaped(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(SCHNELL), status=400,
                          json=failure(3030, "AiError: Input prompt contains NSFW content."))
    response = gateway.post("/v1/images/generations", {"prompt": "something", "model": "dall-e-3"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "content_policy_violation"


def test_a_model_reply_that_is_not_an_image_is_a_502(gateway: Gateway, storage_root: Path) -> None:
    gateway.upstream.post(run_url(SDXL), body=b"\x89PNG\r\n\x1a\nbroken", content_type="image/png")
    response = gateway.post("/v1/images/generations", {"prompt": "a fox", "model": "dall-e-2"})
    assert response.status_code == 502 and stored(storage_root) == []


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "dall-e-2"}, "prompt"),
    ({"prompt": "x", "size": "1000x1000x"}, "size"),
    ({"prompt": "x", "model": "dall-e-3", "size": "1792x1024"}, "size"),
    ({"prompt": "x", "n": 11}, "n"),
    ({"prompt": "x", "response_format": "jpeg"}, "response_format"),
    ({"prompt": "x", "model": "text-embedding-3-small"}, "model"),
])
def test_bad_requests_name_the_field_before_any_upstream_call(gateway: Gateway, body: dict, param: str) -> None:
    response = gateway.post("/v1/images/generations", body)
    assert response.status_code in (400, 404) and response.get_json()["error"]["param"] == param
    assert gateway.runs() == []


# ---- edits and variations --------------------------------------------------------------------------


def form_post(gateway: Gateway, path: str, fields: dict[str, Any]) -> Any:
    data = {k: (io.BytesIO(v[0]), v[1], v[2]) if isinstance(v, tuple) else v for k, v in fields.items()}
    return gateway.client.post(path, data=data, headers=AUTH, content_type="multipart/form-data")


def test_edit_without_mask_is_img2img_of_the_resized_image(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(IMG2IMG), body=png((512, 256)), content_type="image/png")
    response = form_post(gateway, "/v1/images/edits", {
        "image": (png((1000, 500)), "in.png", "image/png"), "prompt": "make it blue", "model": "dall-e-2",
        "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    assert_valid("ImagesResponse", response.get_json())
    sent = json.loads(gateway.runs(IMG2IMG)[0].request.body)
    assert (sent["width"], sent["height"]) == (512, 256) and "mask" not in sent
    assert Image.open(io.BytesIO(bytes(sent["image"]))).size == (512, 256)


def test_edit_with_mask_is_inpainting(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(INPAINT), body=png((512, 512)), content_type="image/png")
    mask = Image.new("RGBA", (300, 300), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 150, 150))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    response = form_post(gateway, "/v1/images/edits", {
        "image": (png((300, 300), fmt="JPEG"), "in.jpg", "image/jpeg"), "mask": (out.getvalue(), "m.png", "image/png"),
        "prompt": "a hat", "size": "512x512"})
    assert response.status_code == 200, response.text
    sent = json.loads(gateway.runs(INPAINT)[0].request.body)
    painted = Image.open(io.BytesIO(bytes(sent["mask"])))
    assert painted.size == (512, 512) and painted.getpixel((5, 5)) == 255 and painted.getpixel((500, 500)) == 0


@pytest.mark.parametrize(("fields", "param"), [
    ({"image": (b"not an image", "x.png", "image/png"), "prompt": "p"}, "image"),
    ({"prompt": "p"}, "image"),
    ({"image": (png((64, 64)), "a.png", "image/png"), "mask": (png((32, 32)), "m.png", "image/png"), "prompt": "p"},
     "mask"),
    ({"image": (png(), "a.png", "image/png"), "prompt": "p", "model": SCHNELL}, "model"),
    ({"image": (png(), "a.png", "image/png")}, "prompt"),
    ({"image": (png(), "a.png", "image/png"), "prompt": "p", "size": "300x300"}, "size"),
])
def test_bad_edits_name_the_field(gateway: Gateway, fields: dict[str, Any], param: str) -> None:
    response = form_post(gateway, "/v1/images/edits", fields)
    assert response.status_code == 400 and response.get_json()["error"]["param"] == param, response.text
    assert gateway.runs() == []


def test_variation_is_img2img_with_a_neutral_prompt(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(IMG2IMG), body=png((512, 512)), content_type="image/png")
    response = form_post(gateway, "/v1/images/variations", {"image": (png((256, 256)), "a.png", "image/png"),
                                                           "n": "2", "size": "512x512"})
    assert response.status_code == 200, response.text
    assert len(response.get_json()["data"]) == 2
    sent = [json.loads(call.request.body) for call in gateway.runs(IMG2IMG)]
    assert len(sent) == 2 and sent[0]["prompt"].startswith("A variation") and sent[0]["strength"] == 0.6


# ---- retrieval -------------------------------------------------------------------------------------


def put_image(root: Path, data: bytes) -> str:
    key = new_key("png")
    LocalStore(root).put(key, data, content_type="image/png")
    return key


def link(key: str, ttl: int = 60, now: float | None = None) -> str:
    return f"/v1/images/{key.removeprefix('images/')}?{LinkSigner(SECRET.encode()).query(key, ttl, now)}"


def test_retrieval_streams_with_caching_headers_and_304(gateway: Gateway, storage_root: Path) -> None:
    data = png((300, 200))
    key = put_image(storage_root, data)
    first = gateway.client.get(link(key))
    assert first.status_code == 200 and first.data == data
    assert first.headers["Content-Length"] == str(len(data)) and first.headers["Content-Type"] == "image/png"
    assert first.headers["ETag"].startswith('"') and "max-age=" in first.headers["Cache-Control"]
    again = gateway.client.get(link(key), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_retrieval_refusals_are_openai_shaped(gateway: Gateway, storage_root: Path) -> None:
    key = put_image(storage_root, png())
    good = link(key)
    expired = gateway.client.get(link(key, ttl=60, now=time.time() - 120))
    assert expired.status_code == 403 and expired.get_json()["error"]["code"] == "link_expired"
    tampered = good.replace("expires=", "expires=9")
    assert gateway.client.get(tampered).status_code == 403
    other = link(new_key("png"))
    assert gateway.client.get(other).status_code == 404
    assert gateway.client.get(other).get_json()["error"]["code"] == "image_not_found"
    leaving = gateway.client.get("/v1/images/..%2F..%2Fsecrets.png?expires=1&signature=x")
    assert leaving.status_code == 400 and leaving.get_json()["error"]["code"] == "invalid_image_key"
    assert gateway.client.get(key.removeprefix("images/").join(("/v1/images/", ""))).status_code == 403
    assert gateway.client.get("/v1/images/generations").status_code == 405


def test_the_access_log_shows_no_key_or_signature(gateway: Gateway, storage_root: Path) -> None:
    key = put_image(storage_root, png())
    url = link(key)
    response = gateway.client.get(url)
    assert response.status_code == 200
    response.close()
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    text = gateway.logs.text()
    assert signature not in text and key.rsplit("/", 1)[1] not in text
    [line] = gateway.logs.events("request", logger="openai_compat.access")
    assert line["status"] == 200 and line["path"].startswith("/v1/images/20")


@pytest.mark.parametrize(("overrides", "headers", "prefix"), [
    ({}, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}, "http://localhost/v1/images/"),
    ({"trust_proxy_headers": True}, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"},
     "https://api.example.com/v1/images/"),
    ({"public_base_url": "https://gw.example.org"}, {}, "https://gw.example.org/v1/images/"),
    ({"image_url_mode": "public", "image_public_base_url": "https://cdn.example.org"}, {},
     "https://cdn.example.org/images/"),
])
def test_links_are_absolute_and_follow_the_configured_base(
    storage_root: Path, overrides: dict[str, Any], headers: dict[str, str], prefix: str, request: pytest.FixtureRequest
) -> None:
    from openai_compat.web.app import build_app
    from tests.unit.factories import make_settings

    settings = {**request.getfixturevalue("settings_overrides"), **overrides}
    import responses

    app = build_app(make_settings(**settings))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(run_url(SDXL), body=png(), content_type="image/png")
        response = app.test_client().post("/v1/images/generations", json={"prompt": "a fox", "model": "dall-e-2"},
                                          headers={**AUTH, **headers})
    assert response.status_code == 200, response.text
    assert response.get_json()["data"][0]["url"].startswith(prefix)
