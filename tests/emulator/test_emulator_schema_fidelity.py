"""The emulator's hand-written input schemas must agree with Cloudflare's catalogue.

For every emulated model with a catalogue file in ``../shared/specs/workers-ai-models``
a corpus of valid and invalid inputs goes both through ``jsonschema`` against the
catalogue's ``schema.input`` (``oneOf`` read as ``anyOf``, the async ``requests``
alternative removed, as the catalogue README says) and through the running emulator:
accepted by the emulator <=> valid per the catalogue. Skipped when the catalogue is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from tests.support.emulator import EmulatorHandle, shared_dir
from workers_ai_emulator.registry import MODELS

SHARED = shared_dir()
CATALOGUE = SHARED / "specs" / "workers-ai-models" if SHARED else None
# Models without their own file here share the schema of a sibling.
SIBLING_FILES = {"@cf/meta/llama-3.1-8b-instruct-fast": "llama-3.1-8b-instruct.json"}

pytestmark = pytest.mark.skipif(
    CATALOGUE is None or not CATALOGUE.is_dir(), reason="../shared/specs/workers-ai-models not available"
)


def catalogue_file(model: str) -> Path | None:
    if CATALOGUE is None:
        return None
    path = CATALOGUE / SIBLING_FILES.get(model, model.rsplit("/", 1)[-1] + ".json")
    return path if path.is_file() else None


def catalogue_entry(model: str) -> dict[str, Any]:
    path = catalogue_file(model)
    assert path is not None
    return json.loads(path.read_text())


def as_validator_schema(node: Any) -> Any:
    """oneOf -> anyOf everywhere; drop alternatives that describe the async ``requests`` batch."""
    if isinstance(node, list):
        return [as_validator_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("oneOf", "anyOf"):
            alternatives = [v for v in value if "requests" not in v.get("properties", {})]
            out["anyOf"] = as_validator_schema(alternatives)
        else:
            out[key] = as_validator_schema(value)
    return out


TOOL = {"name": "f", "description": "d", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "description": "c"}}}}
MSG = [{"role": "user", "content": "hi"}]
TEXT_CORPUS: list[Any] = [
    {"prompt": "hi"},
    {"prompt": ""},
    {"prompt": 5},
    {},
    [],
    {"requests": [{"prompt": "hi"}]},
    {"prompt": "x" * 131073},
    {"prompt": "hi", "messages": 5},
    {"messages": MSG},
    {"messages": []},
    {"messages": "hi"},
    {"messages": [{"role": "user"}]},
    {"messages": [{"content": "hi"}]},
    {"messages": [{"role": "user", "content": 5}]},
    {"messages": [{"role": "user", "content": "x" * 131073}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
    {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
    {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]},
    {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "ftp://example.com/x.png"}}]}]},
    {"messages": [{"role": "tool", "tool_call_id": "abc", "content": "x"}]},
    {"messages": [{"role": "tool", "tool_call_id": "abcdefghi", "content": "x"}]},
    {"prompt": "hi", "max_tokens": 10},
    {"prompt": "hi", "max_tokens": "10"},
    {"prompt": "hi", "max_tokens": 1.5},
    {"prompt": "hi", "temperature": 0},
    {"prompt": "hi", "temperature": 5},
    {"prompt": "hi", "temperature": 5.1},
    {"prompt": "hi", "temperature": -0.1},
    {"prompt": "hi", "top_p": 0},
    {"prompt": "hi", "top_p": 1},
    {"prompt": "hi", "top_p": 1.5},
    {"prompt": "hi", "top_p": 2.5},
    {"prompt": "hi", "top_k": 0},
    {"prompt": "hi", "top_k": 50},
    {"prompt": "hi", "top_k": 51},
    {"prompt": "hi", "top_k": 2.5},
    {"prompt": "hi", "seed": 0},
    {"prompt": "hi", "seed": 9999999999},
    {"prompt": "hi", "seed": 10000000000},
    {"prompt": "hi", "repetition_penalty": 2.5},
    {"prompt": "hi", "frequency_penalty": -1},
    {"prompt": "hi", "frequency_penalty": 2.5},
    {"messages": MSG, "presence_penalty": -1.5},
    {"messages": MSG, "presence_penalty": -2.5},
    {"prompt": "hi", "raw": "yes"},
    {"prompt": "hi", "raw": True},
    {"prompt": "hi", "stream": "yes"},
    {"prompt": "hi", "lora": 5},
    {"prompt": "hi", "lora": "my-adapter"},
    {"prompt": "hi", "response_format": {"type": "json_object"}},
    {"prompt": "hi", "response_format": {"type": "xml"}},
    {"messages": MSG, "response_format": "json"},
    {"messages": MSG, "response_format": {"type": "json_schema", "json_schema": {"type": "object"}}},
    {"messages": MSG, "tools": [TOOL]},
    {"messages": MSG, "tools": [{"type": "function", "function": TOOL}]},
    {"messages": MSG, "tools": [{"name": "f", "parameters": TOOL["parameters"]}]},
    {"messages": MSG, "tools": [{**TOOL, "parameters": {"type": "object", "properties": {"c": {"type": "string"}}}}]},
    {"messages": MSG, "tools": [{**TOOL, "parameters": {"type": "object"}}]},
    {"messages": MSG, "tools": ["f"]},
    {"messages": MSG, "tools": {"name": "f"}},
    {"messages": MSG, "functions": [{"name": "f", "code": "x"}]},
    {"messages": MSG, "functions": [{"name": "f"}]},
    {"prompt": "hi", "image": [1, 2, 3]},
    {"prompt": "hi", "image": "aGVsbG8="},
    {"prompt": "hi", "image": 5},
    {"messages": MSG, "image": ["a"]},
    {"prompt": "hi", "guided_json": {"type": "object"}},
    {"prompt": "hi", "guided_json": "x"},
    {"input": "hi"},
    {"input": [{"role": "user", "content": "hi"}]},
    {"input": 5},
    {"input": "hi", "reasoning": {"effort": "low", "summary": "auto"}},
    {"input": "hi", "reasoning": {"effort": "max"}},
]
EMBEDDING_CORPUS: list[Any] = [
    {"text": "hi"},
    {"text": ""},
    {"text": 5},
    {"text": []},
    {"text": ["a", "b"]},
    {"text": ["a", ""]},
    {"text": ["a", 5]},
    {"text": ["t"] * 32},
    {"text": ["t"] * 33},
    {"text": ["t"] * 100},
    {"text": ["t"] * 101},
    {},
    [],
    {"requests": [{"text": "hi"}]},
    {"text": "hi", "pooling": "cls"},
    {"text": "hi", "pooling": "max"},
    {"text": "hi", "truncate_inputs": True},
    {"text": "hi", "truncate_inputs": "yes"},
    {"contexts": [{"text": "a"}, {"text": "b"}]},
    {"contexts": [{"text": "a"}], "query": "q"},
    {"contexts": [{"text": "a"}], "query": ""},
    {"contexts": [{"text": ""}]},
    {"contexts": [{}]},
    {"contexts": "a"},
    {"contexts": ["a"]},
    {"queries": "q"},
    {"queries": ["q"] * 33},
    {"queries": ""},
    {"documents": ["d1", "d2"], "queries": "q", "instruction": "Find"},
    {"documents": 5},
    {"instruction": 5},
]

RERANK_CORPUS: list[Any] = [
    {"query": "q", "contexts": [{"text": "a"}, {"text": "b"}]},
    {"query": "q", "contexts": []},
    {"query": "q", "contexts": [{}]},
    {"query": "q", "contexts": [{"text": ""}]},
    {"query": "q", "contexts": [{"text": 5}]},
    {"query": "q", "contexts": ["a"]},
    {"query": "q", "contexts": {"text": "a"}},
    {"query": "", "contexts": [{"text": "a"}]},
    {"query": 5, "contexts": [{"text": "a"}]},
    {"query": "q"},
    {"contexts": [{"text": "a"}]},
    {"query": "q", "contexts": [{"text": "a"}], "top_k": 1},
    {"query": "q", "contexts": [{"text": "a"}], "top_k": 0},
    {"query": "q", "contexts": [{"text": "a"}], "top_k": 1.5},
    {"query": "q", "contexts": [{"text": "a"}], "top_k": "1"},
    {"query": "q", "contexts": [{"text": "a", "id": 3}], "extra": True},
    {"query": "q", "contexts": [{"text": "t"}] * 250},
    {},
    [],
]
CORPORA: dict[str, list[Any]] = {"embedding": EMBEDDING_CORPUS, "reranker": RERANK_CORPUS}


def corpus_of(model: str) -> list[Any]:
    return CORPORA.get(MODELS[model].family, TEXT_CORPUS)


# Image and audio models have their own corpora: tests/emulator/test_emulator_images.py and ..._audio.py.
TEXT_FAMILIES = ("classic", "openai", "gpt-oss", "embedding", "llama-guard", "reranker")
CASES = [
    (model, index)
    for model, spec in MODELS.items()
    if catalogue_file(model) is not None and spec.family in TEXT_FAMILIES
    for index in range(len(corpus_of(model)))
]


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft202012Validator]:
    found = {}
    for model, spec in MODELS.items():
        if catalogue_file(model) is not None and spec.family in TEXT_FAMILIES:
            found[model] = Draft202012Validator(as_validator_schema(catalogue_entry(model)["schema"]["input"]))
    return found


def test_every_emulated_catalogue_model_is_checked(validators: dict[str, Draft202012Validator]) -> None:
    assert "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in validators and "@cf/baai/bge-m3" in validators
    assert len(validators) >= 13


@pytest.mark.parametrize(("model", "index"), CASES, ids=[f"{m.rsplit('/', 1)[-1]}-{i}" for m, i in CASES])
def test_emulator_agrees_with_catalogue(
    emu: EmulatorHandle, validators: dict[str, Draft202012Validator], model: str, index: int
) -> None:
    body = corpus_of(model)[index]
    valid = validators[model].is_valid(body)
    response = requests.post(emu.run_url(model), data=json.dumps(body), headers=emu.headers, timeout=10)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["errors"][0]["code"] == 5006
    assert (response.status_code == 200) == valid, f"catalogue says valid={valid}, emulator said {response.text[:300]}"


def test_search_records_match_catalogue(emu: EmulatorHandle) -> None:
    url = f"{emu.account_url}/ai/models/search"
    records = {r["name"]: r for r in requests.get(url, headers=emu.headers, timeout=5).json()["result"]}
    compared = 0
    for model in MODELS:
        path = catalogue_file(model)
        if path is None or model in SIBLING_FILES:
            continue
        entry, record = catalogue_entry(model), records[model]
        assert record["id"] == entry["id"] and record["source"] == entry["source"]
        assert record["description"] == entry["description"]
        assert record["task"] == entry["task"]
        if entry.get("created_at"):
            assert record["created_at"] == entry["created_at"]
        ours = {p["property_id"]: p["value"] for p in record["properties"]}
        for prop in entry["properties"]:
            if prop["property_id"] in ours:
                assert ours[prop["property_id"]] == prop["value"], (model, prop["property_id"])
        wanted = {"context_window", "function_calling", "vision", "output_dimensions", "max_input_tokens"}
        missing = {p["property_id"] for p in entry["properties"]} & wanted - set(ours)
        assert not missing, (model, missing)
        compared += 1
    assert compared >= 12
