"""The emulator's text-to-image models: their checks agree with Cloudflare's catalogue, and they answer
in each model's real form with an image made deterministically from the input."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from PIL import Image

from tests.emulator.test_emulator_schema_fidelity import as_validator_schema, catalogue_entry, catalogue_file
from tests.support.emulator import EmulatorHandle
from workers_ai_emulator.images import BEHAVIOUR, picture
from workers_ai_emulator.registry import MODELS

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img"
INPAINT = "@cf/runwayml/stable-diffusion-v1-5-inpainting"
SCHNELL = "@cf/black-forest-labs/flux-1-schnell"
PHOENIX = "@cf/leonardo/phoenix-1.0"
LUCID = "@cf/leonardo/lucid-origin"
KLEIN = "@cf/black-forest-labs/flux-2-klein-4b"
JSON_MODELS = [m for m, s in MODELS.items() if s.family == "image"]
FORM_MODELS = [m for m, s in MODELS.items() if s.family == "image-form"]


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


SOURCE = encoded(Image.new("RGB", (320, 240), (200, 30, 30)))
MASK = encoded(Image.new("L", (320, 240), 255))

CORPUS: list[Any] = [
    {"prompt": "a cat"},
    {"prompt": ""},
    {"prompt": 5},
    {},
    {"prompt": "a cat", "width": 512, "height": 512},
    {"prompt": "a cat", "width": 255},
    {"prompt": "a cat", "width": 2049},
    {"prompt": "a cat", "height": 2500},
    {"prompt": "a cat", "height": 2501},
    {"prompt": "a cat", "width": 512.5},
    {"prompt": "a cat", "num_steps": 20},
    {"prompt": "a cat", "num_steps": 21},
    {"prompt": "a cat", "num_steps": 50},
    {"prompt": "a cat", "num_steps": 51},
    {"prompt": "a cat", "num_steps": 0},
    {"prompt": "a cat", "steps": 8},
    {"prompt": "a cat", "steps": 9},
    {"prompt": "a cat", "guidance": 1},
    {"prompt": "a cat", "guidance": 10.5},
    {"prompt": "a cat", "guidance": "high"},
    {"prompt": "a cat", "seed": 42},
    {"prompt": "a cat", "seed": -1},
    {"prompt": "a cat", "negative_prompt": "dogs"},
    {"prompt": "a cat", "negative_prompt": ""},
    {"prompt": "a cat", "strength": 0.5},
    {"prompt": "x" * 2048},
    {"prompt": "x" * 2049},
    {"prompt": "a cat", "unknown": True},
]


def with_input(model: str, body: Any) -> Any:
    """img2img and inpainting models also need their images (a need beyond the schema)."""
    needs = BEHAVIOUR[model][2]
    if not isinstance(body, dict) or not needs:
        return body
    extra: dict[str, Any] = {"image": list(SOURCE)}
    if needs == "mask":
        extra["mask"] = list(MASK)
    return {**body, **extra}


CASES = [(m, i) for m in JSON_MODELS if catalogue_file(m) is not None for i in range(len(CORPUS))]


@pytest.mark.skipif(not CASES, reason="../shared/specs/workers-ai-models not available")
@pytest.mark.parametrize(("model", "index"), CASES, ids=[f"{m.rsplit('/', 1)[-1]}-{i}" for m, i in CASES])
def test_image_model_checks_agree_with_catalogue(emu: EmulatorHandle, model: str, index: int) -> None:
    body = with_input(model, CORPUS[index])
    valid = Draft202012Validator(as_validator_schema(catalogue_entry(model)["schema"]["input"])).is_valid(body)
    response = requests.post(emu.run_url(model), data=json.dumps(body), headers=emu.headers, timeout=30)
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 400:
        assert response.json()["errors"][0]["code"] == 5006
    assert (response.status_code == 200) == valid, f"catalogue says valid={valid}, emulator said {response.text[:300]}"


def test_all_eleven_catalogue_image_models_are_emulated() -> None:
    assert len(JSON_MODELS) + len(FORM_MODELS) == 11
    for model in [*JSON_MODELS, *FORM_MODELS]:
        assert MODELS[model].task == "Text-to-Image"


def test_sd_models_answer_with_the_raw_png_of_the_asked_size(emu: EmulatorHandle) -> None:
    body = {"prompt": "a cat", "width": 512, "height": 256, "seed": 3}
    first, second = emu.run(SDXL, body), emu.run(SDXL, body)
    assert first.headers["Content-Type"] == "image/png" and first.content == second.content
    assert first.content == encoded_like(SDXL, "a cat", 512, 256, seed=3)
    assert emu.run(SDXL, {**body, "seed": 4}).content != first.content


def encoded_like(model: str, prompt: str, width: int, height: int, **kwargs: Any) -> bytes:
    out = io.BytesIO()
    picture(model, prompt, width, height, **kwargs).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def test_phoenix_answers_with_a_raw_jpeg(emu: EmulatorHandle) -> None:
    response = emu.run(PHOENIX, {"prompt": "a cat"})
    assert response.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (1024, 1024)


@pytest.mark.parametrize(("model", "fmt", "size"), [(SCHNELL, "JPEG", (1024, 1024)), (LUCID, "JPEG", (1120, 1120))])
def test_json_models_answer_with_base64_in_the_envelope(emu: EmulatorHandle, model: str, fmt: str,
                                                        size: tuple[int, int]) -> None:
    response = emu.run(model, {"prompt": "a cat"})
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["result"]["image"])))
    assert (image.format, image.size) == (fmt, size)


def test_flux2_takes_a_multipart_form_and_refuses_json(emu: EmulatorHandle) -> None:
    ok = requests.post(emu.run_url(KLEIN), files={"prompt": (None, "a dog"), "width": (None, "512"),
                                                  "height": (None, "768"), "steps": (None, "4")},
                       headers=emu.headers, timeout=30)
    image = Image.open(io.BytesIO(base64.b64decode(ok.json()["result"]["image"])))
    assert (image.format, image.size) == ("PNG", (512, 768))
    assert emu.run(KLEIN, {"prompt": "a dog"}).json()["errors"][0]["code"] == 5006
    for bad in ({"width": (None, "100")}, {"steps": (None, "x")}, {"colour": (None, "red")}, {}):
        fields = {"prompt": (None, "a dog"), **bad} if bad else {"width": (None, "512")}
        refused = requests.post(emu.run_url(KLEIN), files=fields, headers=emu.headers, timeout=30)
        assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == 5006, bad


def test_img2img_blends_the_input_and_inpainting_paints_only_the_mask(emu: EmulatorHandle) -> None:
    assert emu.run(IMG2IMG, {"prompt": "blue"}).status_code == 400  # no input image
    kept = emu.run(IMG2IMG, {"prompt": "blue", "image": list(SOURCE), "strength": 0})
    assert Image.open(io.BytesIO(kept.content)).getpixel((10, 10)) == (200, 30, 30)
    mask = Image.new("L", (320, 240), 0)
    mask.paste(255, (0, 0, 160, 240))
    painted = Image.open(io.BytesIO(emu.run(INPAINT, {"prompt": "blue", "image": list(SOURCE),
                                                      "mask": list(encoded(mask))}).content))
    assert painted.getpixel((300, 10)) == (200, 30, 30) and painted.getpixel((10, 10)) != (200, 30, 30)
    assert emu.run(INPAINT, {"prompt": "blue", "image": list(SOURCE)}).status_code == 400  # no mask
    assert emu.run(IMG2IMG, {"prompt": "blue", "image": [1, 2, 3]}).status_code == 400  # not an image


def test_nsfw_prompts_are_refused_like_the_real_filter(emu: EmulatorHandle) -> None:
    response = emu.run(SCHNELL, {"prompt": "an NSFW scene"})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 3030


def test_noise_prompts_make_large_images(emu: EmulatorHandle) -> None:
    response = emu.run(SDXL, {"prompt": "[noise] big", "width": 2048, "height": 2048}, timeout=60)
    assert len(response.content) > 10 * 1024 * 1024
