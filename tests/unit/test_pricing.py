"""Cost per request from the catalogue's published prices, in every unit Workers AI prices by.

Expected figures are worked out here from the published prices (`tests.support.prices`: the catalogue
files, or the emulator's copy of them) and the usage, not copied from the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from openai_compat.core.metering import Cost, Measurement, Meter, Usage
from openai_compat.core.model_names import ResolvedModel
from openai_compat.core.pricing import PriceBook, known_unit, parse_price, tiles
from tests.support.prices import catalogue_records, published_price, unit_price

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
QWEN_EMBED = "@cf/qwen/qwen3-embedding-0.6b"
WHISPER = "@cf/openai/whisper-large-v3-turbo"
AURA = "@cf/deepgram/aura-2-en"
LUCID = "@cf/leonardo/lucid-origin"
FLUX2 = "@cf/black-forest-labs/flux-2-dev"
LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"


def book(overrides: dict[str, dict[str, float]] | None = None, reachable: bool = True) -> PriceBook:
    return PriceBook(lambda model: (reachable, published_price(model)), overrides)


def test_chat_tokens_cost_input_and_output_at_their_prices() -> None:
    cost = book().cost(LLAMA, Usage(prompt_tokens=1200, completion_tokens=350))
    expected = (1200 * unit_price(LLAMA, "per M input tokens") + 350 * unit_price(LLAMA, "per M output tokens")) / 1e6
    assert cost.usd == pytest.approx(expected, rel=1e-9) and cost.note is None


def test_embedding_costs_its_input_tokens() -> None:
    cost = book().cost(QWEN_EMBED, Usage(prompt_tokens=5000))
    assert cost.usd == pytest.approx(5000 * unit_price(QWEN_EMBED, "per M input tokens") / 1e6, rel=1e-9)


def test_transcription_costs_per_audio_minute() -> None:
    cost = book().cost(WHISPER, Usage(audio_seconds=95.5))
    assert cost.usd == pytest.approx(95.5 / 60 * unit_price(WHISPER, "per audio minute"), rel=1e-9)


def test_speech_costs_per_thousand_characters() -> None:
    cost = book().cost(AURA, Usage(characters=2345))
    assert cost.usd == pytest.approx(2.345 * unit_price(AURA, "per 1k characters"), rel=1e-9)


def test_image_costs_per_tile_and_per_step() -> None:
    usage = Usage(images=2, tiles_per_image=tiles(1024, 1024), steps_per_image=20)
    expected = 2 * 4 * unit_price(LUCID, "per 512 by 512 tile") + 2 * 20 * unit_price(LUCID, "per step")
    assert book().cost(LUCID, usage).usd == pytest.approx(expected, rel=1e-9)


def test_image_to_image_costs_input_and_output_tiles_per_step() -> None:
    usage = Usage(images=1, tiles_per_image=tiles(1024, 768), input_tiles_per_image=tiles(512, 512), steps_per_image=25)
    expected = (1 * 25 * unit_price(FLUX2, "per input 512x512 tile, per step")
                + 4 * 25 * unit_price(FLUX2, "per output 512x512 tile, per step"))
    assert book().cost(FLUX2, usage).usd == pytest.approx(expected, rel=1e-9)


def test_a_published_price_of_zero_is_a_known_zero() -> None:
    cost = book().cost(LIGHTNING, Usage(images=1, steps_per_image=8))
    assert cost == Cost(0.0)


@pytest.mark.parametrize(("width", "height", "count"), [(512, 512, 1), (1024, 1024, 4), (1025, 512, 3), (256, 256, 1)])
def test_tiles_count_partial_tiles_whole(width: int, height: int, count: int) -> None:
    assert tiles(width, height) == count


def test_a_model_without_a_published_price_says_so() -> None:
    cost = book().cost("@cf/zai-org/glm-4.7-flash", Usage(prompt_tokens=10, completion_tokens=10))
    assert cost.usd is None and cost.note == "no published price"


def test_an_unreachable_catalogue_gives_no_cost_rather_than_a_guess() -> None:
    cost = book(reachable=False).cost(LLAMA, Usage(prompt_tokens=10))
    assert cost.usd is None and "catalogue" in (cost.note or "")


def test_an_image_priced_per_step_without_its_steps_is_unknown_not_free() -> None:
    cost = book().cost(LUCID, Usage(images=1, tiles_per_image=4))
    assert cost.usd is None and "steps" in (cost.note or "")


def test_usage_in_none_of_the_priced_units_is_unknown_not_free() -> None:
    cost = book().cost(WHISPER, Usage(prompt_tokens=100))  # a family that reported the wrong unit
    assert cost.usd is None


def test_estimated_tokens_are_priced_and_flagged() -> None:
    cost = book().cost(QWEN_EMBED, Usage(prompt_tokens=1000, estimated=True))
    assert cost.usd is not None and cost.note == "from estimated token counts"


def test_settings_overrides_win_over_the_catalogue_and_price_unpublished_models() -> None:
    prices = book({LLAMA: {"per M input tokens": 1.0, "per M output tokens": 2.0},
                   "@cf/zai-org/glm-4.7-flash": {"per M input tokens": 0.5}})
    assert prices.cost(LLAMA, Usage(prompt_tokens=1_000_000, completion_tokens=500_000)).usd == pytest.approx(2.0)
    assert prices.cost("@cf/zai-org/glm-4.7-flash", Usage(prompt_tokens=2_000_000)).usd == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "no published price"),
        ([], "no published price"),
        ([{"unit": "per hour", "price": 1, "currency": "USD"}], "not understood"),
        ([{"unit": "per step", "price": "cheap", "currency": "USD"}], "not a number"),
        ([{"unit": "per step", "price": 1, "currency": "EUR"}], "not in USD"),
        (["per step"], "not understood"),
    ],
)
def test_prices_that_cannot_be_used_say_why(value: Any, reason: str) -> None:
    parsed = parse_price(value)
    assert isinstance(parsed, str) and reason in parsed


def test_every_unit_in_the_catalogue_is_understood() -> None:
    records = catalogue_records()
    if not records:
        pytest.skip("../shared/specs/workers-ai-models not available")
    units = set()
    for record in records.values():
        for prop in record.get("properties") or []:
            if prop.get("property_id") == "price":
                units |= {item["unit"] for item in prop["value"]}
    assert units and all(known_unit(unit) for unit in units), sorted(u for u in units if not known_unit(u))
    for name, record in records.items():
        price = {p["property_id"]: p["value"] for p in record.get("properties") or []}.get("price")
        if price:
            assert not isinstance(parse_price(price), str), name


@pytest.mark.parametrize(
    ("usd", "text"),
    [(1.183e-05, "0.00001183"), (3.6e-08, "0.000000036"), (0.0, "0.0"), (2.5, "2.5"), (None, "unknown")],
)
def test_the_cost_header_is_a_plain_decimal_or_unknown(usd: float | None, text: str) -> None:
    assert Cost(usd).header_value() == text


def test_the_meter_prices_each_measurement_for_every_sink() -> None:
    seen: list[Measurement] = []
    meter = Meter([seen.append], pricer=book().cost)
    meter.record(ResolvedModel("gpt-4.1", LLAMA), Usage(prompt_tokens=10, completion_tokens=10))
    expected = (10 * unit_price(LLAMA, "per M input tokens") + 10 * unit_price(LLAMA, "per M output tokens")) / 1e6
    assert seen[0].cost.usd == pytest.approx(expected)


def test_a_failing_pricer_leaves_the_cost_unknown_and_the_sinks_running() -> None:
    def broken(model: str, usage: Usage) -> Cost:
        raise RuntimeError("boom")

    seen: list[Measurement] = []
    Meter([seen.append], pricer=broken).record(ResolvedModel("x", LLAMA), Usage(prompt_tokens=1))
    assert seen[0].cost.usd is None and seen[0].cost.note == "pricing failed"


def test_a_price_per_image_set_in_settings_counts_images() -> None:
    prices = book({"@cf/black-forest-labs/flux-1-schnell": {"per image": 0.01}})
    assert prices.cost("@cf/black-forest-labs/flux-1-schnell", Usage(images=3)).usd == pytest.approx(0.03)
