"""Multipart form reading (`web.bodies.form_body`, `parse_form`, `Form`, `Upload`) through the real app.

No family reads forms yet, so a test-only blueprint is registered on the built app: it reads the form
and only then forwards it upstream (as FLUX-2 will be sent), so a refused body must never reach Workers AI.
"""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from flask import Blueprint, Response, jsonify
from urllib3.filepost import encode_multipart_formdata
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from openai_compat.core.wire import WireModel
from openai_compat.upstream import multipart_body
from openai_compat.web.bodies import Form, Upload, form_body, parse_form
from openai_compat.web.services import services
from tests.service.conftest import AUTH, Gateway, envelope
from tests.unit.factories import run_url

MAX_BYTES = 1_000_000
MAX_PARTS = 8
MAX_FIELD_BYTES = 200_000  # above the 128 KiB floor form_body keeps (werkzeug checks it per 64 KiB read)
FLUX = "@cf/black-forest-labs/flux-2-dev"


def _describe(upload: Upload) -> dict[str, Any]:
    # Looked at before anything calls fileno(), which would move a spooled file to disk by itself.
    backing = getattr(upload.stream, "_file", upload.stream)
    in_memory = isinstance(backing, io.BytesIO)
    return {
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "in_memory": in_memory,
        "on_disk_bytes": None if in_memory else os.fstat(upload.stream.fileno()).st_size,
    }


class ProbeRequest(WireModel):
    prompt: str
    n: int = 1
    tags: list[str] = []


probe = Blueprint("form_probe", __name__)


@probe.post("/probe/form")
def read_form() -> Response:
    form = form_body(max_bytes=MAX_BYTES, max_parts=MAX_PARTS, max_field_bytes=MAX_FIELD_BYTES)
    files = {name: [_describe(u) for u in uploads] for name, uploads in form.files.items()}
    parts: list[tuple[str, Any]] = [(name, v) for name, values in form.fields.items() for v in values]
    parts += [(u.field, (u.filename, u.read(), u.content_type)) for uploads in form.files.values() for u in uploads]
    services().upstream.run(FLUX, body=multipart_body(parts))
    image = form.file("image")
    return jsonify({
        "fields": form.fields,
        "files": files,
        "scalars": form.scalars(),
        "value_tags": form.value("tags"),
        "values_tags": form.values("tags"),
        "file_image": image.filename if image else None,
    })


@probe.post("/probe/parsed")
def read_parsed() -> Response:
    parsed = parse_form(ProbeRequest, form_body(max_bytes=MAX_BYTES))
    services().upstream.run(FLUX, {"prompt": parsed.prompt})
    return jsonify(parsed.model_dump())


@probe.post("/probe/small-field-cap")
def read_with_small_field_cap() -> Response:
    form = form_body(max_bytes=MAX_BYTES, max_field_bytes=1024)
    return jsonify({"sizes": {name: [u.size for u in uploads] for name, uploads in form.files.items()}})


@pytest.fixture
def forms(gateway: Gateway) -> Gateway:
    gateway.app.register_blueprint(probe)
    gateway.upstream.post(run_url(FLUX), json=envelope({"image": "aGk="}))
    return gateway


def post_form(gateway: Gateway, data: dict[str, Any], path: str = "/probe/form") -> Any:
    return gateway.client.post(path, data=data, content_type="multipart/form-data", headers=AUTH)


def encoded(fields: list[tuple[str, Any]]) -> tuple[bytes, str]:
    return encode_multipart_formdata(fields)


def assert_openai_error(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status
    body = reply.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error" and body["error"]["code"] == code


def test_a_form_is_read_and_forwarded(forms: Gateway) -> None:
    reply = post_form(forms, {"prompt": "a cat", "image": (io.BytesIO(b"\x89PNG-bytes"), "a.png", "image/png")})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["fields"] == {"prompt": ["a cat"]}
    [image] = body["files"]["image"]
    assert (image["filename"], image["content_type"], image["size"]) == ("a.png", "image/png", 10)
    [call] = forms.runs(FLUX)
    environ = EnvironBuilder(input_stream=io.BytesIO(call.request.body),
                             content_type=call.request.headers["Content-Type"]).get_environ()
    sent = Request(environ)
    assert sent.form["prompt"] == "a cat"
    assert sent.files["image"].read() == b"\x89PNG-bytes"


def test_body_over_the_cap_with_content_length_is_413_before_upstream(forms: Gateway) -> None:
    reply = post_form(forms, {"image": (io.BytesIO(b"x" * (MAX_BYTES + 1)), "big.png", "image/png")})
    assert_openai_error(reply, 413, "request_too_large")
    assert str(MAX_BYTES) in reply.get_json()["error"]["message"]
    assert forms.runs() == []


def _chunked(gateway: Gateway, body: bytes, content_type: str) -> Any:
    # No Content-Length: Transfer-Encoding wins. gunicorn marks such input as terminated; so do we.
    return gateway.client.post(
        "/probe/form",
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={**AUTH, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_body_over_the_cap_is_413_before_upstream(forms: Gateway) -> None:
    body, content_type = encoded([("image", ("big.png", b"x" * (MAX_BYTES + 1), "image/png"))])
    reply = _chunked(forms, body, content_type)
    assert_openai_error(reply, 413, "request_too_large")
    assert forms.runs() == []


def test_chunked_body_under_the_cap_is_read_whole(forms: Gateway) -> None:
    body, content_type = encoded([("prompt", "a dog"), ("image", ("a.png", b"y" * 4000, "image/png"))])
    reply = _chunked(forms, body, content_type)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["fields"] == {"prompt": ["a dog"]}
    assert reply.get_json()["files"]["image"][0]["size"] == 4000
    assert len(forms.runs(FLUX)) == 1


def test_a_chunked_body_of_exactly_the_cap_is_accepted_like_a_declared_one(forms: Gateway) -> None:
    empty, _ = encoded([("image", ("a.png", b"", "image/png"))])
    body, content_type = encoded([("image", ("a.png", b"z" * (MAX_BYTES - len(empty)), "image/png"))])
    assert len(body) == MAX_BYTES
    declared = forms.client.post("/probe/form", data=body, content_type=content_type, headers=AUTH)
    assert declared.status_code == 200
    assert _chunked(forms, body, content_type).status_code == 200


def test_too_many_parts_is_413(forms: Gateway) -> None:
    reply = post_form(forms, {f"f{i}": "v" for i in range(MAX_PARTS + 1)})
    assert_openai_error(reply, 413, "request_too_large")
    assert forms.runs() == []


def test_as_many_parts_as_allowed_is_fine(forms: Gateway) -> None:
    reply = post_form(forms, {f"f{i}": "v" for i in range(MAX_PARTS)})
    assert reply.status_code == 200
    assert len(reply.get_json()["fields"]) == MAX_PARTS


def test_text_field_over_its_cap_is_413(forms: Gateway) -> None:
    reply = post_form(forms, {"prompt": "p" * (MAX_FIELD_BYTES + 1)})
    assert_openai_error(reply, 413, "request_too_large")
    assert forms.runs() == []


def test_a_file_part_may_be_larger_than_the_text_field_cap(forms: Gateway) -> None:
    reply = post_form(forms, {"image": (io.BytesIO(b"f" * (MAX_FIELD_BYTES * 3)), "a.png", "image/png")})
    assert reply.status_code == 200
    assert reply.get_json()["files"]["image"][0]["size"] == MAX_FIELD_BYTES * 3


def test_a_small_field_cap_refuses_files_too(forms: Gateway) -> None:
    reply = post_form(forms, {"image": (io.BytesIO(b"f" * 4000), "a.png", "image/png")},
                      path="/probe/small-field-cap")
    assert reply.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("application/json", b'{"prompt": "a cat"}'), ("application/x-www-form-urlencoded", b"prompt=a+cat")],
)
def test_a_body_that_is_not_multipart_is_415(forms: Gateway, content_type: str, data: bytes) -> None:
    reply = forms.client.post("/probe/form", data=data, content_type=content_type, headers=AUTH)
    assert_openai_error(reply, 415, "unsupported_media_type")
    assert "multipart/form-data" in reply.get_json()["error"]["message"]
    assert forms.runs() == []


def test_a_large_file_part_is_spooled_to_disk_a_small_one_is_not(forms: Gateway) -> None:
    large = b"L" * (600 * 1024)
    reply = post_form(forms, {
        "image": (io.BytesIO(large), "large.png", "image/png"),
        "mask": (io.BytesIO(b"small"), "mask.png", "image/png"),
    })
    assert reply.status_code == 200, reply.get_json()
    files = reply.get_json()["files"]
    assert files["image"][0]["in_memory"] is False
    assert files["image"][0]["on_disk_bytes"] == len(large) == files["image"][0]["size"]
    assert files["mask"][0]["in_memory"] is True
    [call] = forms.runs(FLUX)
    assert large in call.request.body  # read back whole from the temporary file


def test_array_fields_are_found_under_name_and_name_brackets(forms: Gateway) -> None:
    reply = post_form(forms, {
        "prompt": "a cat",
        "tags[]": ["red", "blue"],
        "image[]": (io.BytesIO(b"png"), "a.png", "image/png"),
    })
    body = reply.get_json()
    assert body["value_tags"] == "red"
    assert body["values_tags"] == ["red", "blue"]
    assert body["file_image"] == "a.png"
    assert body["scalars"] == {"prompt": "a cat", "tags": ["red", "blue"]}


def test_parse_form_validates_scalars_and_logs_unknown_fields(forms: Gateway) -> None:
    reply = post_form(forms, {"prompt": "a cat", "n": "2", "tags[]": ["a", "b"], "style": "s3cr3t"},
                      path="/probe/parsed")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {"prompt": "a cat", "n": 2, "tags": ["a", "b"], "style": "s3cr3t"}
    [line] = forms.logs.events("ignored_fields", logger="openai_compat.requests")
    assert line["fields"] == ["style"]
    assert "s3cr3t" not in forms.logs.text()


def test_parse_form_names_the_bad_field(forms: Gateway) -> None:
    reply = post_form(forms, {"prompt": "a cat", "n": "many"}, path="/probe/parsed")
    assert reply.status_code == 400
    assert reply.get_json()["error"]["param"] == "n"
    reply = post_form(forms, {"n": "1"}, path="/probe/parsed")
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "missing_required_parameter"
    assert forms.runs() == []


def test_form_helpers_combine_both_spellings() -> None:
    upload = Upload("image[]", "b.png", "image/png", io.BytesIO(b"b"), 1)
    form = Form(fields={"tag": ["x"], "tag[]": ["y", "z"], "size": ["1", "2"], "one": ["1"]},
                files={"image[]": [upload]})
    assert form.value("tag") == "x"
    assert form.values("tag") == ["x", "y", "z"]
    assert form.value("missing") is None and form.values("missing") == []
    assert form.file("image") is upload and form.file("mask") is None


def test_scalars_turn_repeated_names_into_lists() -> None:
    form = Form(fields={"tag[]": ["y", "z"], "size": ["1", "2"], "one": ["1"], "solo[]": ["s"]}, files={})
    assert form.scalars() == {"tag": ["y", "z"], "size": ["1", "2"], "one": "1", "solo": ["s"]}


def test_scalars_with_name_then_name_brackets_keeps_every_value() -> None:
    form = Form(fields={"tag": ["x"], "tag[]": ["y", "z"]}, files={})
    assert form.scalars() == {"tag": ["x", "y", "z"]}


def test_scalars_with_name_brackets_then_name_keeps_every_value() -> None:
    form = Form(fields={"tag[]": ["y", "z"], "tag": ["x"]}, files={})
    assert form.scalars() == {"tag": ["y", "z", "x"]}


def test_a_form_with_both_spellings_of_a_field_is_not_a_500(forms: Gateway) -> None:
    reply = post_form(forms, {"prompt": "a cat", "tags": "a", "tags[]": ["b", "c"]}, path="/probe/parsed")
    assert reply.status_code != 500


@probe.post("/probe/capped-file")
def read_capped_file() -> Response:
    form = form_body(max_bytes=50 * MAX_BYTES, max_file_bytes=4096, file_param="image")
    return jsonify({"sizes": {name: [u.size for u in uploads] for name, uploads in form.files.items()}})


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_a_file_part_over_its_cap_is_cut_off_while_it_is_read(forms: Gateway) -> None:
    body, content_type = encoded([("image", ("big.png", b"p" * (20 * MAX_BYTES), "image/png"))])
    stream = CountingStream(body)
    reply = forms.client.post("/probe/capped-file", input_stream=stream, content_type=content_type,
                              headers={**AUTH, "Content-Length": str(len(body))})
    assert_openai_error(reply, 413, "request_too_large")
    assert reply.get_json()["error"]["param"] == "image" and "4096" in reply.get_json()["error"]["message"]
    assert stream.consumed < len(body) // 10  # refused as the part passed the cap, not after reading it all
    assert forms.runs() == []


def test_a_file_part_of_exactly_its_cap_is_accepted(forms: Gateway) -> None:
    reply = post_form(forms, {"image": (io.BytesIO(b"q" * 4096), "a.png", "image/png")}, path="/probe/capped-file")
    assert reply.status_code == 200 and reply.get_json()["sizes"] == {"image": [4096]}
