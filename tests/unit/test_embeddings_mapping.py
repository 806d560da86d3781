"""OpenAI embeddings requests -> Workers AI inputs and Workers AI results -> OpenAI bodies, without HTTP."""

from __future__ import annotations

import base64
import math
import random
import struct
import threading
import time
from typing import Any

import pytest

from openai_compat.core import jsonio
from openai_compat.core.concurrency import run_all
from openai_compat.embeddings.from_workers import BatchResult, batch_matrix, embedding_response, read_batch
from openai_compat.embeddings.profiles import UNKNOWN, embedding_model, known_models
from openai_compat.embeddings.protocol import EmbeddingRequest
from openai_compat.embeddings.to_workers import (
    MAX_INPUTS,
    batch_input,
    batches,
    check_dimensions,
    check_lengths,
    fewest_tokens,
    input_texts,
)
from openai_compat.errors import APIError, InvalidRequestError, UpstreamError
from openai_compat.web.bodies import parse_model

QWEN = "@cf/qwen/qwen3-embedding-0.6b"
GEMMA = "@cf/google/embeddinggemma-300m"
M3 = "@cf/baai/bge-m3"
BGE_BASE = "@cf/baai/bge-base-en-v1.5"
PLAMO = "@cf/pfnet/plamo-embedding-1b"


def unit_vector(dim: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    values = [rng.gauss(0, 1) for _ in range(dim)]
    norm = math.hypot(*values)
    return [v / norm for v in values]


def refused(call: Any, *args: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        call(*args)
    return caught.value


# --- request model and input ----------------------------------------------------------------------


def test_request_tolerates_user_and_unknown_fields() -> None:
    req = parse_model(EmbeddingRequest, {"model": "m", "input": "x", "user": "u-1", "something_new": {"a": 1}})
    assert req.input == "x" and req.encoding_format is None and req.dimensions is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "256"}, "dimensions"),
        ({"model": "m"}, "input"),
        ({"input": "x"}, "model"),
    ],
)
def test_request_field_errors_name_the_field(body: dict[str, Any], param: str) -> None:
    assert refused(parse_model, EmbeddingRequest, body).param == param


def test_string_and_list_inputs() -> None:
    assert input_texts("hello") == ["hello"]
    assert input_texts(["a", " ", "c"]) == ["a", " ", "c"]
    assert len(input_texts(["x"] * MAX_INPUTS)) == MAX_INPUTS


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ([1, 2, 3], "Token-id arrays"),
        ([[1, 2], [3]], "Token-id arrays"),
        ("", "empty string"),
        (["a", ""], "input[1]"),
        ([], "empty list"),
        (["x"] * (MAX_INPUTS + 1), "at most 2048"),
        (["a", 1], "list of strings"),
        ({"text": "a"}, "list of strings"),
        (None, "list of strings"),
        ([True, False], "list of strings"),
    ],
)
def test_bad_inputs_are_400_naming_input(raw: Any, words: str) -> None:
    error = refused(input_texts, raw)
    assert error.param == "input" and error.status == 400
    assert words in error.message


# --- the model table ------------------------------------------------------------------------------


def test_table_covers_every_catalogue_embedding_model() -> None:
    assert set(known_models()) == {
        "@cf/baai/bge-small-en-v1.5",
        BGE_BASE,
        "@cf/baai/bge-large-en-v1.5",
        "@cf/baai/omni-bge-base-en-v1.5",
        M3,
        GEMMA,
        PLAMO,
        QWEN,
    }
    assert embedding_model("@cf/baai/bge-small-en-v1.5").dimension == 384
    assert embedding_model(QWEN).batch_limit == 32 and embedding_model(BGE_BASE).batch_limit == 100
    assert embedding_model("@cf/someone/new-embedder") is UNKNOWN


# --- batching and request shapes ------------------------------------------------------------------


def test_batches_keep_order_and_respect_the_limit() -> None:
    texts = [f"t{i}" for i in range(250)]
    groups = batches(texts, 100)
    assert [len(g) for g in groups] == [100, 100, 50]
    assert [t for g in groups for t in g] == texts
    assert [len(g) for g in batches(texts, embedding_model(QWEN).batch_limit)] == [32] * 7 + [26]
    assert batches(["one"], 100) == [["one"]]


@pytest.mark.parametrize("model", [BGE_BASE, "@cf/baai/bge-small-en-v1.5", GEMMA, PLAMO, QWEN, "@cf/x/unknown"])
def test_text_models_get_a_text_list(model: str) -> None:
    assert batch_input(["a", "b"], embedding_model(model)) == {"text": ["a", "b"]}


def test_bge_m3_gets_text_with_truncation_on() -> None:
    assert batch_input(["a"], embedding_model(M3)) == {"text": ["a"], "truncate_inputs": True}


# --- over-long inputs -----------------------------------------------------------------------------


def test_token_lower_bound_counts_words_or_bytes() -> None:
    assert fewest_tokens("one two  three") == 3
    assert fewest_tokens("x" * 800) == 100
    assert fewest_tokens("語" * 80) == 30  # 240 UTF-8 bytes


def test_over_long_input_is_400_naming_input() -> None:
    check_lengths(["word " * 512], embedding_model(BGE_BASE), "ada")
    error = refused(check_lengths, ["short", "word " * 513], embedding_model(BGE_BASE), "ada")
    assert error.param == "input" and error.code == "context_length_exceeded"
    assert "input[1]" in error.message and "512" in error.message
    check_lengths(["word " * 5000], embedding_model(QWEN), "q")
    check_lengths(["word " * 100_000], UNKNOWN, "u")  # no window known: upstream decides


# --- dimensions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "dimensions"),
    [
        (QWEN, 32),
        (QWEN, 256),
        (QWEN, 1000),
        (QWEN, 1024),
        (GEMMA, 768),
        (GEMMA, 512),
        (GEMMA, 256),
        (GEMMA, 128),
        (M3, 1024),
        (BGE_BASE, 768),
        (PLAMO, 2048),
        (QWEN, None),
        (M3, None),
        ("@cf/x/y", None),
    ],
)
def test_dimensions_honoured(model: str, dimensions: int | None) -> None:
    check_dimensions(dimensions, embedding_model(model), model)


@pytest.mark.parametrize(
    ("model", "dimensions", "words"),
    [
        (QWEN, 31, "from 32 to 1024"),
        (QWEN, 1025, "from 32 to 1024"),
        (GEMMA, 300, "768, 512, 256, 128"),
        (M3, 256, "only produces 1024"),
        (BGE_BASE, 512, "only produces 768"),
        (PLAMO, 1024, "only produces 2048"),
        ("@cf/x/y", 256, "does not know"),
    ],
)
def test_dimensions_refused(model: str, dimensions: int, words: str) -> None:
    error = refused(check_dimensions, dimensions, embedding_model(model), model)
    assert error.param == "dimensions" and words in error.message


def shorten(vector: list[float], dimensions: int) -> list[float]:
    """What a client reads for one vector shortened to `dimensions` (floats, through the JSON encoder)."""
    body = embedding_response([BatchResult([vector], 1, True)], model="m", encoding_format="float",
                              dimensions=dimensions)
    return jsonio.loads(jsonio.dumps(body))["data"][0]["embedding"]


def wire(vectors: list[list[float]], encoding_format: str, dimensions: int | None = None) -> list[Any]:
    body = embedding_response([BatchResult(vectors, 1, True)], model="m", encoding_format=encoding_format,  # type: ignore[arg-type]
                              dimensions=dimensions)
    return [d["embedding"] for d in jsonio.loads(jsonio.dumps(body))["data"]]


def test_shorten_truncates_and_renormalises() -> None:
    vector = unit_vector(1024)
    short = shorten(vector, 256)
    assert len(short) == 256
    assert math.isclose(math.hypot(*short), 1.0, rel_tol=1e-6)
    scale = math.hypot(*vector[:256])
    assert all(math.isclose(s * scale, v, rel_tol=1e-6, abs_tol=1e-9) for s, v in zip(short, vector[:256], strict=True))
    assert shorten([0.0, 0.0, 1.0], 2) == [0.0, 0.0]


# --- upstream results -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        {"shape": [2, 3], "data": [[1.0, 0, 0], [0, 1.0, 0]], "pooling": "mean"},  # bge v1.5
        {"shape": [2, 3], "data": [[1.0, 0, 0], [0, 1.0, 0]], "pooling": "cls"},  # bge-m3 text
        {"response": [[1.0, 0, 0], [0, 1.0, 0]], "shape": [2, 3], "pooling": "cls"},  # bge-m3 contexts
        {"shape": [2, 3], "data": [[1.0, 0, 0], [0, 1.0, 0]]},  # embeddinggemma
        {"data": [[1.0, 0, 0], [0, 1.0, 0]], "shape": [2, 3]},  # plamo, qwen3-embedding
    ],
)
def test_each_model_result_shape_is_read(result: dict[str, Any]) -> None:
    batch = read_batch(result, ["abcd", "abcdefgh"])
    assert batch.vectors == [[1.0, 0, 0], [0, 1.0, 0]]
    assert batch.estimated and batch.prompt_tokens == 1 + 2  # about four characters a token


def test_upstream_usage_wins_over_the_estimate() -> None:
    batch = read_batch({"data": [[1.0]], "usage": {"prompt_tokens": 9, "total_tokens": 9}}, ["abc"])
    assert batch.prompt_tokens == 9 and not batch.estimated


@pytest.mark.parametrize(
    "result",
    [None, {"request_id": "abc"}, {"data": [[1.0]]}, {"data": "nope"}, {"data": [[1.0], []]}, [[1.0], [2.0]]],
)
def test_unusable_results_are_upstream_errors(result: Any) -> None:
    with pytest.raises(UpstreamError):
        read_batch(result, ["a", "b"])


@pytest.mark.parametrize("vectors", [[["x", 1.0]], [[None, 1.0]], [[1.0, 2.0], [1.0]], [[1e300, 1.0]],
                                     [[float("nan"), 1.0]], [[float("inf"), 1.0]], [[[1.0], [2.0]]]])
def test_what_is_not_a_vector_of_numbers_is_an_upstream_error(vectors: list[Any]) -> None:
    with pytest.raises(UpstreamError):
        batch_matrix(vectors, None, "m")
    with pytest.raises(UpstreamError):
        embedding_response([BatchResult(vectors, 1, True)], model="m", encoding_format="float", dimensions=None)


# --- encodings and the response body --------------------------------------------------------------


def test_base64_is_exactly_little_endian_float32() -> None:
    vector = unit_vector(768)
    [encoded] = wire([vector], "base64")
    assert isinstance(encoded, str)
    assert base64.b64decode(encoded) == struct.pack("<%df" % len(vector), *vector)  # noqa: UP031


def test_float_and_base64_carry_the_same_float32_values() -> None:
    vector = unit_vector(384, seed=3)
    [floats] = wire([vector], "float")
    decoded = list(struct.unpack("<384f", base64.b64decode(wire([vector], "base64")[0])))
    assert floats == decoded  # the float32 values exactly, whichever encoding the client asks for
    assert all(math.isclose(f, v, rel_tol=1e-6, abs_tol=1e-9) for f, v in zip(floats, vector, strict=True))


def test_response_body_reassembles_batches_in_order() -> None:
    first = BatchResult([unit_vector(8, 1), unit_vector(8, 2)], 5, estimated=True)
    second = BatchResult([unit_vector(8, 3)], 4, estimated=False)
    body = embedding_response([first, second], model="text-embedding-3-small", encoding_format="float", dimensions=None)
    body = jsonio.loads(jsonio.dumps(body))
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in body["data"])
    assert body["data"][2]["embedding"] == wire([unit_vector(8, 3)], "float")[0]
    assert body["usage"] == {"prompt_tokens": 9, "total_tokens": 9}


def test_response_body_with_dimensions_and_base64() -> None:
    vector = unit_vector(1024)
    [encoded] = wire([vector], "base64", dimensions=256)
    values = struct.unpack("<256f", base64.b64decode(encoded))
    assert list(values) == shorten(vector, 256)
    assert math.isclose(math.hypot(*values), 1.0, rel_tol=1e-6)


def test_the_standard_library_writes_the_rows_when_orjson_cannot() -> None:
    """A lone surrogate sends the body to the standard library's encoder, which must still write rows."""
    body = embedding_response([BatchResult([[0.5, 0.25]], 1, True)], model="m\ud800", encoding_format="float",
                              dimensions=None)
    assert jsonio.loads(jsonio.dumps(body))["data"][0]["embedding"] == [0.5, 0.25]


def test_dimensions_larger_than_the_vector_name_dimensions() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        embedding_response([BatchResult([[1.0, 0.0]], 1, True)], model="m", encoding_format="float", dimensions=4)
    assert caught.value.param == "dimensions"


# --- bounded concurrency --------------------------------------------------------------------------


def test_run_all_keeps_order_and_limits_concurrency() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def make(i: int) -> Any:
        def call() -> int:
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.01 * (i % 3))
            with lock:
                state["now"] -= 1
            return i

        return call

    assert run_all([make(i) for i in range(12)], limit=4) == list(range(12))
    assert state["peak"] <= 4


def test_run_all_fails_whole_and_skips_unstarted_calls() -> None:
    started: list[int] = []

    def make(i: int) -> Any:
        def call() -> int:
            started.append(i)
            if i == 0:
                raise UpstreamError("batch 0 failed")
            time.sleep(0.05)
            return i

        return call

    with pytest.raises(APIError, match="batch 0 failed"):
        run_all([make(i) for i in range(20)], limit=2)
    assert len(started) < 20
