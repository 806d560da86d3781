"""The images mapping: sizes, steps and guidance per model, prompt limits, the three upstream forms,
and the refusals a client sees before any upstream call."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP

import pytest

from openai_compat.errors import InvalidRequestError
from openai_compat.images.profiles import image_model
from openai_compat.images.protocol import EditForm, GenerationRequest
from openai_compat.images.to_workers import generation_plan, image_plan, parse_size
from openai_compat.media.pictures import Size

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
SCHNELL = "@cf/black-forest-labs/flux-1-schnell"
KLEIN = "@cf/black-forest-labs/flux-2-klein-4b"
PHOENIX = "@cf/leonardo/phoenix-1.0"
LUCID = "@cf/leonardo/lucid-origin"
IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img"


def plan_for(model: str, requested: str | None = None, **fields: object):
    req = GenerationRequest.model_validate({"prompt": "a red fox", **fields})
    return generation_plan(req, requested or model, image_model(model))


def refused(model: str, requested: str | None = None, **fields: object) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        plan_for(model, requested, **fields)
    return caught.value


def json_of(plan, index: int = 0) -> dict:
    body = plan.body(index)
    assert body.content_type == "application/json"
    return json.loads(body.data)


def form_of(plan, index: int = 0) -> dict[str, str]:
    body = plan.body(index)
    assert body.content_type.startswith("multipart/form-data; boundary=")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + body.content_type.encode() + b"\r\n\r\n" + body.data)
    return {part.get_param("name", header="content-disposition"): part.get_content() for part in message.iter_parts()}


@pytest.mark.parametrize(("model", "size", "expected"), [
    (SDXL, None, Size(1024, 1024)),
    (SDXL, "auto", Size(1024, 1024)),
    (SDXL, "1792x1024", Size(1792, 1024)),
    (SDXL, "256x256", Size(256, 256)),
    (IMG2IMG, None, Size(512, 512)),
    (LUCID, None, Size(1120, 1120)),
    (KLEIN, "1536x1024", Size(1536, 1024)),
    (SCHNELL, "1024x1024", None),  # one size only: no width or height is sent
    (SCHNELL, "auto", None),
])
def test_sizes_map_to_each_models_limits(model: str, size: str | None, expected: Size | None) -> None:
    assert parse_size(size, image_model(model), model) == expected


@pytest.mark.parametrize(("model", "size", "says"), [
    (SDXL, "1024", "WIDTHxHEIGHT"),
    (SDXL, "1024x1024x3", "WIDTHxHEIGHT"),
    (SDXL, "128x128", "from 256 to 2048"),
    (SDXL, "4096x1024", "from 256 to 2048"),
    (SDXL, "1000x1001", "multiples of 8"),
    (KLEIN, "1032x1024", "multiples of 16"),
    (SCHNELL, "512x512", "1024x1024 images only"),
    (SDXL, "2048x2048x", "WIDTHxHEIGHT"),
])
def test_sizes_a_model_cannot_make_are_a_400_naming_size(model: str, size: str, says: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_size(size, image_model(model), model)
    assert caught.value.param == "size" and says in caught.value.message


def test_sdxl_gets_json_with_size_steps_guidance_and_extras() -> None:
    plan = plan_for(SDXL, "dall-e-2", size="512x768", quality="low", style="natural",
                    negative_prompt="blurry", seed=7)
    assert json_of(plan) == {"prompt": "a red fox", "width": 512, "height": 768, "num_steps": 10,
                             "guidance": 5.0, "negative_prompt": "blurry", "seed": 7}
    assert json_of(plan, 2)["seed"] == 9, "n images from one seed must differ"


def test_explicit_workers_knobs_win_over_quality_and_style() -> None:
    payload = json_of(plan_for(SDXL, quality="hd", style="vivid", num_steps=3, guidance=12))
    assert payload["num_steps"] == 3 and payload["guidance"] == 12.0


def test_flux_schnell_gets_only_what_its_closed_schema_allows() -> None:
    assert json_of(plan_for(SCHNELL, "dall-e-3", quality="hd", style="vivid")) == {"prompt": "a red fox", "steps": 8}
    assert refused(SCHNELL, seed=1).param == "seed"
    assert refused(SCHNELL, negative_prompt="x").param == "negative_prompt"
    assert refused(SCHNELL, guidance=3).param == "guidance"


def test_flux2_gets_a_multipart_form() -> None:
    form = form_of(plan_for(KLEIN, size="1024x768", quality="high", seed=5), index=1)
    assert form == {"prompt": "a red fox", "width": "1024", "height": "768", "steps": "8", "seed": "6"}


def test_leonardo_ranges_are_checked() -> None:
    assert json_of(plan_for(PHOENIX, guidance=2))["guidance"] == 2.0
    assert refused(PHOENIX, guidance=1).param == "guidance"
    assert refused(LUCID, num_steps=41).param == "num_steps"
    assert refused(SDXL, num_steps=21).param == "num_steps"


def test_prompt_limits_follow_openai_names_and_the_model() -> None:
    assert refused(SDXL, "dall-e-2", prompt="x" * 1001).code == "string_above_max_length"
    plan_for(SDXL, "dall-e-2", prompt="x" * 1000)
    plan_for(SCHNELL, "dall-e-3", prompt="x" * 2048)
    assert refused(SCHNELL, "dall-e-3", prompt="x" * 2049).param == "prompt"
    plan_for(SDXL, "gpt-image-1", prompt="x" * 32000)
    assert refused(SDXL, "gpt-image-1", prompt="x" * 32001).param == "prompt"
    assert refused(SDXL, prompt="   ").param == "prompt"


def test_options_workers_ai_cannot_honour_are_refused() -> None:
    assert refused(SDXL, stream=True).param == "stream"
    assert refused(SDXL, background="transparent").param == "background"
    assert refused(SDXL, strength=0.5).param == "strength"
    plan_for(SDXL, background="opaque", moderation="low", user="u1")


def test_an_edit_sends_the_image_and_mask_as_byte_arrays_with_a_strength() -> None:
    req = EditForm.model_validate({"prompt": "make it blue", "n": "2"})
    plan = image_plan(req, prompt="make it blue", spec=image_model(IMG2IMG), model="dall-e-2", size=Size(512, 384),
                      image=b"\x89PNG-image", mask=None)
    payload = json_of(plan)
    assert payload["image"] == list(b"\x89PNG-image") and "mask" not in payload
    assert payload["strength"] == 0.75 and (payload["width"], payload["height"]) == (512, 384)
    inpaint = image_plan(req, prompt="x", spec=image_model(IMG2IMG), model="m", size=Size(512, 512),
                         image=b"img", mask=b"mask")
    assert json_of(inpaint)["mask"] == list(b"mask") and json_of(inpaint)["strength"] == 1.0
    variation = image_plan(EditForm.model_validate({"prompt": "p", "strength": "0.3"}), prompt=None,
                           spec=image_model(IMG2IMG), model="m", size=Size(512, 512), image=b"img", mask=None)
    assert json_of(variation)["strength"] == 0.3 and json_of(variation)["prompt"].startswith("A variation")


def test_form_numbers_are_parsed_and_bounded() -> None:
    assert EditForm.model_validate({"prompt": "p", "n": "10"}).n == 10
    with pytest.raises(ValueError):
        EditForm.model_validate({"prompt": "p", "n": "11"})
    with pytest.raises(ValueError):
        GenerationRequest.model_validate({"prompt": "p", "n": "2"})  # JSON numbers must be numbers
