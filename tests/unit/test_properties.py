"""Property tests (hypothesis) of the pure parts every request goes through: the SSE reader and writer,
the multipart reader, the subtitle writers, and the mappings between OpenAI and Workers AI. Each holds
for any input hypothesis can find, not only the examples someone thought of."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import pysubs2
import pytest
import srt
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.test import encode_multipart

from openai_compat.core import jsonio
from openai_compat.core.sse import data_event, named_event
from openai_compat.embeddings.from_workers import BatchResult, embedding_response
from openai_compat.errors import APIError, UpstreamError
from openai_compat.media.links import LinkSigner
from openai_compat.moderations.from_workers import read_verdict
from openai_compat.rerank.from_workers import Scored, relevance, rerank_response
from openai_compat.sound.subtitles import Cue, to_srt, to_vtt
from openai_compat.textgen.stop import StopMatcher, truncate_at_stop
from openai_compat.textgen.to_workers import _call_object
from openai_compat.upstream.error_map import map_upstream_error, parse_retry_after
from openai_compat.web.bodies import form_body
from tests.unit.factories import iter_event_data

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                               max_size=4),
                    max_leaves=12)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at arbitrary places: network chunks split events anywhere, UTF-8 characters included."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[last:point])
        last = point
    return pieces


# ---- SSE -------------------------------------------------------------------------------------------


@SETTINGS
@given(values=st.lists(JSON, max_size=6), cuts=st.lists(st.integers(min_value=0), max_size=12),
       newline=st.sampled_from(["\n", "\r\n", "\r"]), heartbeats=st.booleans())
def test_whatever_the_writer_frames_the_reader_gives_back(values: list[Any], cuts: list[int], newline: str,
                                                          heartbeats: bool) -> None:
    frames = [data_event(v) + (b": ping\n\n" if heartbeats else b"") for v in values]
    wire = b"".join(frames).replace(b"\n", newline.encode())
    read = list(iter_event_data(split(wire, cuts)))
    assert [json.loads(r) for r in read] == values


@SETTINGS
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"])),
                      min_size=1, max_size=5), cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_multi_line_data_is_joined_with_newlines(lines: list[str], cuts: list[int]) -> None:
    wire = ("".join(f"data: {line}\n" for line in lines) + "\n").encode()
    expected = "\n".join(lines)
    assert list(iter_event_data(split(wire, cuts))) == [expected]


@SETTINGS
@given(name=st.text(min_size=1), value=JSON)
def test_named_events_carry_one_line_names_or_refuse(name: str, value: Any) -> None:
    if "\n" in name or "\r" in name:
        with pytest.raises(ValueError):
            named_event(name, value)
        return
    assume("\udc80" not in name and all(not 0xD800 <= ord(c) <= 0xDFFF for c in name))
    frame = named_event(name, value)
    head, _, rest = frame.partition(b"\n")
    assert head == b"event: " + name.encode()
    assert [json.loads(d) for d in iter_event_data([rest])] == [value]


# ---- multipart ---------------------------------------------------------------------------------------

FIELD_NAME = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='"\\%[]'),
                     min_size=1, max_size=12)
FIELD_VALUE = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=40)
APP = Flask("multipart-properties")


@SETTINGS
@given(fields=st.dictionaries(FIELD_NAME, FIELD_VALUE, max_size=6),
       files=st.dictionaries(FIELD_NAME.map(lambda n: f"file_{n}"), st.binary(max_size=3000), max_size=3))
def test_the_multipart_reader_gives_back_every_field_and_file(fields: dict[str, str], files: dict[str, bytes]) -> None:
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    values: dict[str, Any] = dict(fields)
    values.update({name: FileStorage(BytesIO(data), filename=f"{name}.bin") for name, data in files.items()})
    boundary, body = encode_multipart(values)
    with APP.test_request_context("/", method="POST", data=body,
                                  content_type=f"multipart/form-data; boundary={boundary}"):
        form = form_body(max_bytes=10_000_000)
        assert {name: form.value(name) for name in fields} == fields
        for name, data in files.items():  # read while the request lasts: its spooled files close with it
            upload = form.file(name)
            assert upload is not None and upload.read() == data and upload.size == len(data)


# ---- subtitles ---------------------------------------------------------------------------------------

CUE_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]) | st.just("\n"),
                   min_size=1, max_size=60).filter(lambda t: t.strip() and "-->" not in t)


@st.composite
def cues(draw: Any) -> list[Cue]:
    out, at = [], 0.0
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        start = at + draw(st.floats(min_value=0, max_value=30))
        end = start + draw(st.floats(min_value=0.001, max_value=30))
        out.append(Cue(start, end, draw(CUE_TEXT)))
        at = end
    return out


def visible(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


@SETTINGS
@given(written=cues())
def test_srt_as_written_is_read_back_by_an_independent_parser(written: list[Cue]) -> None:
    parsed = list(srt.parse(to_srt(written)))
    assert [p.index for p in parsed] == list(range(1, len(written) + 1))
    for cue, got in zip(written, parsed, strict=True):
        assert abs(got.start.total_seconds() - cue.start) <= 0.0011
        assert abs(got.end.total_seconds() - cue.end) <= 0.0011
        assert visible(got.content) == visible(cue.text)


@SETTINGS
@given(written=cues())
def test_webvtt_as_written_is_read_back_by_an_independent_parser(written: list[Cue]) -> None:
    document = to_vtt(written)
    assert document.startswith("WEBVTT\n")
    parsed = pysubs2.SSAFile.from_string(document, format_="vtt")
    assert len(parsed) == len(written)
    for cue, got in zip(written, parsed, strict=True):
        assert abs(got.start - cue.start * 1000) <= 1.1 and abs(got.end - cue.end * 1000) <= 1.1


# ---- mappings ----------------------------------------------------------------------------------------


@SETTINGS
@given(text=st.text(max_size=80), stops=st.lists(st.text(max_size=5), max_size=4),
       cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_stop_sequences_cut_streamed_text_exactly_as_the_whole_text(text: str, stops: list[str],
                                                                    cuts: list[int]) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for point in [*points, len(text)]:
        pieces.append(text[last:point])
        last = point
    matcher = StopMatcher(stops)
    streamed = "".join(matcher.feed(p) for p in pieces) + matcher.flush()
    assert streamed == truncate_at_stop(text, stops)[0]


@SETTINGS
@given(scores=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30),
       top_n=st.none() | st.integers(min_value=1, max_value=40))
def test_rerank_results_are_best_first_in_zero_one_and_cut_to_top_n(scores: list[float], top_n: int | None) -> None:
    batches = [[Scored(i, s) for i, s in enumerate(scores)]]
    body = rerank_response(batches, documents=[f"d{i}" for i in range(len(scores))], top_n=top_n,
                           return_documents=True, model="m", total_tokens=1)
    results = body["results"]
    assert len(results) == min(len(scores), top_n or len(scores))
    assert all(0.0 <= r["relevance_score"] <= 1.0 for r in results)
    keys = [(-scores[r["index"]], r["index"]) for r in results]
    assert keys == sorted(keys)
    assert all(r["document"] == {"text": f"d{r['index']}"} for r in results)


@SETTINGS
@given(a=st.floats(allow_nan=False, allow_infinity=False), b=st.floats(allow_nan=False, allow_infinity=False))
def test_relevance_is_a_monotonic_sigmoid(a: float, b: float) -> None:
    assert 0.0 <= relevance(a) <= 1.0
    if a < b:
        assert relevance(a) <= relevance(b)


@SETTINGS
@given(vector=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=2, max_size=64),
       keep=st.integers(min_value=1, max_value=64))
def test_shortened_embeddings_are_unit_length_and_base64_decodes_to_the_floats(vector: list[float], keep: int) -> None:
    keep = min(keep, len(vector) - 1)  # shorter than the model makes: shortened (the full width is kept as is)

    def embedding(encoding_format: str) -> Any:
        body = embedding_response([BatchResult([vector], 1, True)], model="m", encoding_format=encoding_format,  # type: ignore[arg-type]
                                  dimensions=keep)
        return jsonio.loads(jsonio.dumps(body))["data"][0]["embedding"]

    short = embedding("float")
    assert len(short) == keep
    if math.hypot(*vector[:keep]) > 1e-30:
        assert math.isclose(math.hypot(*short), 1.0, rel_tol=1e-5)
    decoded = base64.b64decode(embedding("base64"))
    assert list(struct.unpack(f"<{keep}f", decoded)) == short


@SETTINGS
@given(value=st.text())
def test_retry_after_never_raises_and_is_never_negative(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@SETTINGS
@given(status=st.integers(min_value=300, max_value=599), body=JSON,
       retry_after=st.none() | st.text(max_size=12))
def test_every_upstream_failure_maps_to_an_openai_error_that_is_never_a_500(
    status: int, body: Any, retry_after: str | None
) -> None:
    error = map_upstream_error(status, body, {"Retry-After": retry_after} if retry_after else {}, "m")
    assert isinstance(error, APIError) and error.status != 500
    shaped = error.body()["error"]
    assert set(shaped) == {"message", "type", "param", "code"} and isinstance(shaped["message"], str)
    if error.status == 429:
        assert int(error.headers["Retry-After"]) >= 1


@SETTINGS
@given(result=JSON, text=st.text(max_size=20))
def test_any_llama_guard_answer_is_a_verdict_or_an_upstream_error(result: Any, text: str) -> None:
    try:
        verdict = read_verdict(result, text, "m")
    except UpstreamError:
        return
    assert verdict.prompt_tokens >= 0 and verdict.completion_tokens >= 0


@SETTINGS
@given(arguments=st.text(max_size=200) | JSON.map(json.dumps))
def test_tool_call_arguments_map_to_an_object_or_pass_as_sent(arguments: str) -> None:
    mapped = _call_object("f", arguments)
    assert mapped["name"] == "f"
    json.dumps(mapped)  # whatever came in, what goes upstream can be encoded


@SETTINGS
@given(key=st.from_regex(r"images/20[0-9]{2}/[0-9]{2}/[0-9]{2}/[A-Za-z0-9_-]{8,32}\.png", fullmatch=True),
       other=st.from_regex(r"images/[A-Za-z0-9_/-]{1,40}\.png", fullmatch=True),
       expires=st.integers(min_value=2_000_000_000, max_value=9_999_999_999), shift=st.integers(1, 10**6))
def test_a_signed_link_verifies_only_for_its_own_key_and_expiry(key: str, other: str, expires: int,
                                                                shift: int) -> None:
    signer = LinkSigner(b"property-test-secret-0123456789")
    signature = signer.signature(key, expires)
    assert signer.verify(key, str(expires), signature, now=0) is None
    assert signer.verify(key, str(expires + shift), signature, now=0) == "invalid"
    if other != key:
        assert signer.verify(other, str(expires), signature, now=0) == "invalid"
    assert LinkSigner(b"another-secret-of-some-length").verify(key, str(expires), signature, now=0) == "invalid"
