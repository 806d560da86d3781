"""Published prices, restated from Cloudflare's catalogue (each model's `price` property, served by
``models/search`` as the real API does), so the gateway's cost figures can be checked end to end.

Kept apart from the model specs so models added in other modules get their catalogue price by name;
``tests/emulator/test_emulator_prices.py`` checks every entry against the catalogue files.
Models whose catalogue record has no price (glm-4.7-flash, flux-1-schnell, ...) have none here either.
"""

from __future__ import annotations

from typing import Any


def _tokens(input_usd: float, output_usd: float | None = None) -> list[dict[str, Any]]:
    items = [{"unit": "per M input tokens", "price": input_usd, "currency": "USD"}]
    if output_usd is not None:
        items.append({"unit": "per M output tokens", "price": output_usd, "currency": "USD"})
    return items


PRICES: dict[str, list[dict[str, Any]]] = {
    # text generation
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast": _tokens(0.29, 2.25),
    "@cf/meta/llama-4-scout-17b-16e-instruct": _tokens(0.27, 0.85),
    "@cf/meta/llama-3.2-11b-vision-instruct": _tokens(0.049, 0.68),
    "@cf/openai/gpt-oss-120b": _tokens(0.35, 0.75),
    "@cf/ibm-granite/granite-4.0-h-micro": _tokens(0.017, 0.11),
    # embeddings
    "@cf/baai/bge-small-en-v1.5": _tokens(0.02),
    "@cf/baai/bge-base-en-v1.5": _tokens(0.067),
    "@cf/baai/bge-large-en-v1.5": _tokens(0.2),
    "@cf/baai/bge-m3": _tokens(0.0118),
    "@cf/pfnet/plamo-embedding-1b": _tokens(0.0186),
    "@cf/qwen/qwen3-embedding-0.6b": _tokens(0.012),
    # speech recognition, per audio minute
    "@cf/openai/whisper-large-v3-turbo": [{"unit": "per audio minute", "price": 0.00051, "currency": "USD"}],
    "@cf/openai/whisper": [{"unit": "per audio minute", "price": 0.00045, "currency": "USD"}],
    "@cf/deepgram/nova-3": [{"unit": "per audio minute", "price": 0.0052, "currency": "USD"}],
    # translation
    "@cf/meta/m2m100-1.2b": _tokens(0.34, 0.34),
    # text to speech, per 1k characters
    "@cf/deepgram/aura-1": [{"unit": "per 1k characters", "price": 0.015, "currency": "USD"}],
    "@cf/deepgram/aura-2-en": [{"unit": "per 1k characters", "price": 0.03, "currency": "USD"}],
    "@cf/deepgram/aura-2-es": [{"unit": "per 1k characters", "price": 0.03, "currency": "USD"}],
    # images: per 512x512 tile and per step
    "@cf/leonardo/lucid-origin": [{"unit": "per 512 by 512 tile", "price": 0.007, "currency": "USD"},
                                  {"unit": "per step", "price": 0.000132, "currency": "USD"}],
    "@cf/leonardo/phoenix-1.0": [{"unit": "per 512 by 512 tile", "price": 0.0058, "currency": "USD"},
                                 {"unit": "per step", "price": 0.00011, "currency": "USD"}],
    "@cf/black-forest-labs/flux-2-dev": [
        {"unit": "per input 512x512 tile, per step", "price": 0.000413, "currency": "USD"},
        {"unit": "per output 512x512 tile, per step", "price": 0.000825, "currency": "USD"},
    ],
    "@cf/bytedance/stable-diffusion-xl-lightning": [{"unit": "per step", "price": 0, "currency": "USD"}],
    "@cf/runwayml/stable-diffusion-v1-5-inpainting": [{"unit": "per step", "price": 0, "currency": "USD"}],
}


def price_property(model: str) -> list[dict[str, Any]]:
    """The ``price`` property of a ``models/search`` record: the model's price, or none."""
    found = PRICES.get(model)
    return [{"property_id": "price", "value": found}] if found else []
