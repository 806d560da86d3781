"""Embeddings end to end: the official SDK -> gunicorn-served gateway -> Workers AI emulator."""

from __future__ import annotations

import base64
import copy
import math
import struct
from array import array
from typing import Any

import openai
import pytest
import requests

from openai_compat.embeddings.profiles import embedding_model, known_models
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle
from tests.support.openai_spec import assert_valid

QWEN = "@cf/qwen/qwen3-embedding-0.6b"
GEMMA = "@cf/google/embeddinggemma-300m"
M3 = "@cf/baai/bge-m3"
BGE_SMALL = "@cf/baai/bge-small-en-v1.5"


def auth(gateway: GatewayHandle) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.api_key}"}


def post(gateway: GatewayHandle, body: dict[str, Any], path: str = "/v1/embeddings") -> requests.Response:
    return requests.post(f"{gateway.url}{path}", json=body, headers=auth(gateway), timeout=30)


def as_float32(vector: list[float]) -> list[float]:
    return array("f", vector).tolist()


def direct(emulator: EmulatorHandle, model: str, texts: list[str]) -> list[list[float]]:
    """The vectors Workers AI itself gives, rounded to float32 as the gateway sends them."""
    response = emulator.run(model, {"text": texts})
    response.raise_for_status()
    return [as_float32(v) for v in response.json()["result"]["data"]]


def run_calls(emulator: EmulatorHandle, model: str) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].endswith(f"/ai/run/{model}")]


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def bad_request(call: Any, **kwargs: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        call(**kwargs)
    return caught.value


# --- the happy paths ------------------------------------------------------------------------------


def test_one_string(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    raw = gateway.client().embeddings.with_raw_response.create(
        model="text-embedding-3-small", input="The quick brown fox", encoding_format="float"
    )
    result = raw.parse()
    assert raw.headers["x-workers-ai-model"] == QWEN
    assert result.model == "text-embedding-3-small" and result.object == "list"
    assert len(result.data) == 1 and result.data[0].index == 0 and result.data[0].object == "embedding"
    assert result.data[0].embedding == direct(upstream, QWEN, ["The quick brown fox"])[0]
    assert len(result.data[0].embedding) == 1024
    # Workers AI reports no usage for embeddings: about four characters a token.
    assert result.usage.prompt_tokens == result.usage.total_tokens == 5


@pytest.mark.parametrize("model", known_models())
def test_every_catalogue_model_gets_its_shape_and_real_dimension(
    gateway: GatewayHandle, upstream: EmulatorHandle, model: str
) -> None:
    texts = ["first text", "second text"]
    result = gateway.client().embeddings.create(model=model, input=texts, encoding_format="float")
    sent = run_calls(upstream, model)
    expected_body: dict[str, Any] = {"text": texts}
    if model == M3:
        expected_body["truncate_inputs"] = True
    assert [r["json"] for r in sent] == [expected_body]
    assert [d.embedding for d in result.data] == direct(upstream, model, texts)
    assert {len(d.embedding) for d in result.data} == {embedding_model(model).dimension}


def test_250_inputs_are_batched_and_kept_in_order(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    texts = [f"sentence number {i} about topic {i % 7}" for i in range(250)]
    client = gateway.client()
    result = client.embeddings.create(model=BGE_SMALL, input=texts, encoding_format="float")
    sizes = sorted(len(r["json"]["text"]) for r in run_calls(upstream, BGE_SMALL))
    assert sizes == [50, 100, 100]
    assert [d.index for d in result.data] == list(range(250))
    one_by_one = [client.embeddings.create(model=BGE_SMALL, input=t).data[0].embedding for t in texts]
    assert [d.embedding for d in result.data] == one_by_one


def test_qwen_batches_of_32(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    texts = [f"doc {i}" for i in range(70)]
    result = gateway.client().embeddings.create(model="text-embedding-3-small", input=texts)
    assert sorted(len(r["json"]["text"]) for r in run_calls(upstream, QWEN)) == [6, 32, 32]
    assert [d.embedding for d in result.data] == direct(upstream, QWEN, texts[:32]) + direct(
        upstream, QWEN, texts[32:64]
    ) + direct(upstream, QWEN, texts[64:])


def test_float_and_default_base64_give_the_same_vectors(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    client = gateway.client()
    texts = ["alpha", "beta", "gamma"]
    floats = client.embeddings.create(model=M3, input=texts, encoding_format="float")
    default = client.embeddings.create(model=M3, input=texts)  # the SDK asks for base64 and decodes it
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    raw = post(gateway, {"model": M3, "input": texts, "encoding_format": "base64"}).json()
    for item, vector in zip(raw["data"], floats.data, strict=True):
        assert isinstance(item["embedding"], str)
        assert base64.b64decode(item["embedding"]) == struct.pack(f"<{len(vector.embedding)}f", *vector.embedding)


# --- dimensions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "dimensions"), [(QWEN, 256), (QWEN, 32), (GEMMA, 128), (GEMMA, 512)])
def test_dimensions_honoured_with_unit_norm(
    gateway: GatewayHandle, upstream: EmulatorHandle, model: str, dimensions: int
) -> None:
    client = gateway.client()
    short = client.embeddings.create(model=model, input=["x y z", "w"], dimensions=dimensions)
    full = direct(upstream, model, ["x y z", "w"])
    for item, whole in zip(short.data, full, strict=True):
        assert len(item.embedding) == dimensions
        assert math.isclose(norm(item.embedding), 1.0, rel_tol=1e-5)
        scale = norm(whole[:dimensions])
        assert all(
            math.isclose(a, b / scale, rel_tol=1e-5, abs_tol=1e-7)
            for a, b in zip(item.embedding, whole[:dimensions], strict=True)
        )


def test_native_dimensions_are_accepted_everywhere(gateway: GatewayHandle) -> None:
    result = gateway.client().embeddings.create(model=M3, input="x", dimensions=1024, encoding_format="float")
    assert len(result.data[0].embedding) == 1024


@pytest.mark.parametrize(
    ("model", "dimensions"),
    [("text-embedding-3-large", 2048), (GEMMA, 300), ("text-embedding-ada-002", 256), (BGE_SMALL, 128)],
)
def test_dimensions_refused(gateway: GatewayHandle, model: str, dimensions: int) -> None:
    error = bad_request(gateway.client().embeddings.create, model=model, input="x", dimensions=dimensions)
    assert error.body["param"] == "dimensions"


# --- 400s -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [[1, 2, 3], [[1, 2], [3, 4]], "", ["ok", ""], [], ["x"] * 2049, "word " * 600],
    ids=["token-ids", "token-id-lists", "empty-string", "empty-item", "empty-list", "2049-items", "too-long"],
)
def test_bad_input_is_400_naming_input(gateway: GatewayHandle, upstream: EmulatorHandle, value: Any) -> None:
    error = bad_request(gateway.client().embeddings.create, model=BGE_SMALL, input=value)
    assert error.body["param"] == "input"
    assert run_calls(upstream, BGE_SMALL) == []  # refused before any upstream call


def test_bad_encoding_format_is_400(gateway: GatewayHandle) -> None:
    error = bad_request(gateway.client().embeddings.create, model=M3, input="x", encoding_format="int8")
    assert error.body["param"] == "encoding_format"


@pytest.mark.parametrize("model", ["gpt-4o-mini", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"])
def test_non_embedding_model_is_400_naming_model(gateway: GatewayHandle, model: str) -> None:
    error = bad_request(gateway.client().embeddings.create, model=model, input="x")
    assert error.body["param"] == "model"


def test_unknown_workers_ai_model_is_sent_and_its_error_mapped(gateway: GatewayHandle) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        gateway.client().embeddings.create(model="@cf/nobody/embedder", input="x")
    assert caught.value.code == "model_not_found"


def test_user_and_unknown_fields_are_tolerated(gateway: GatewayHandle) -> None:
    result = gateway.client().embeddings.create(
        model=BGE_SMALL, input="x", user="end-user-7", extra_body={"something_new": True}
    )
    assert len(result.data[0].embedding) == 384


# --- upstream failures ----------------------------------------------------------------------------


def test_one_failed_batch_fails_the_whole_request(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=500, fail_times=1)
    with pytest.raises(openai.InternalServerError) as caught:
        gateway.client(max_retries=0).embeddings.create(model=BGE_SMALL, input=[f"t{i}" for i in range(250)])
    assert caught.value.status_code == 502
    assert caught.value.body["code"] == "upstream_error"


def test_rate_limited_batch_fails_the_request_with_429(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, fail_times=50)
    with pytest.raises(openai.RateLimitError) as caught:
        gateway.client(max_retries=0).embeddings.create(model=QWEN, input=[f"t{i}" for i in range(70)])
    assert caught.value.status_code == 429
    assert caught.value.response.headers.get("retry-after")


# --- wire format ----------------------------------------------------------------------------------


def test_float_body_matches_the_openai_spec(gateway: GatewayHandle) -> None:
    response = post(gateway, {"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "float"})
    assert response.status_code == 200, response.text
    assert_valid("CreateEmbeddingResponse", response.json())


def test_base64_body_has_the_openai_shape(gateway: GatewayHandle) -> None:
    response = post(gateway, {"model": GEMMA, "input": ["a", "b"], "encoding_format": "base64"}, path="/embeddings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"object", "data", "model", "usage"}
    assert all(set(item) == {"object", "index", "embedding"} for item in body["data"])
    decoded = copy.deepcopy(body)
    for item in decoded["data"]:
        raw = base64.b64decode(item["embedding"], validate=True)
        assert len(raw) == 768 * 4
        item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    assert_valid("CreateEmbeddingResponse", decoded)


def test_error_body_matches_the_openai_spec(gateway: GatewayHandle) -> None:
    response = post(gateway, {"model": BGE_SMALL, "input": [1, 2, 3]}, path="/embeddings")
    assert response.status_code == 400
    assert_valid("ErrorResponse", response.json())
