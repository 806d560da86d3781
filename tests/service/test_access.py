"""Who gets in: a key on every route except health, readiness, preflight and signed image links (the
route table is swept, so a route added later is covered); keys compared in constant time; signed links
that cannot be forged, extended or moved to another object; stored objects unreachable outside their
prefix; CORS only for the configured origins."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from openai_compat.core import keys
from openai_compat.media.links import LinkSigner
from tests.service.conftest import Gateway

PUBLIC = {"/health", "/ready", "/v1/images/<path:path>", "/images/<path:path>"}
SECRET = "access-tests-signing-secret"


def concrete(rule: str) -> str:
    """A URL matching a route: each converter filled with a plausible value."""
    for name, value in (("<path:path>", "2026/01/01/abc.png"), ("<path:model>", "gpt-4o-mini"),
                        ("<response_id>", "resp_" + "0" * 32)):
        rule = rule.replace(name, value)
    return rule


def routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    return found


def test_every_route_but_the_public_ones_needs_a_key(gateway: Gateway) -> None:
    swept = routes(gateway.app)
    assert len(swept) > 40  # every family, versioned and not
    for method, rule in swept:
        for headers in ({}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Basic c2stdW5pdDo="}):
            reply = gateway.client.open(concrete(rule), method=method, headers=headers, json={})
            if rule in PUBLIC:
                assert reply.status_code != 401, (method, rule)
                continue
            expected = 403 if rule == "/admin/usage" else 401  # no ADMIN_API_KEY: the endpoint is off
            assert reply.status_code == expected, (method, rule, headers, reply.status_code)
            assert set(reply.get_json()["error"]) == {"message", "type", "param", "code"}
    assert not gateway.runs()


def test_preflight_needs_no_key(gateway: Gateway) -> None:
    reply = gateway.client.options("/v1/chat/completions", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert reply.status_code == 204


def test_keys_are_compared_in_constant_time_against_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(keys.hmac, "compare_digest", recording)
    ring = keys.KeyRing([b"sk-first", b"sk-second", b"sk-third"], {}, {})
    assert ring.identify("sk-first") is not None
    assert ring.identify("sk-nope") is None
    # Every key is compared whether or not an earlier one matched: timing tells nothing of which.
    assert compared == [(b"sk-first", k) for k in (b"sk-first", b"sk-second", b"sk-third")] + \
        [(b"sk-nope", k) for k in (b"sk-first", b"sk-second", b"sk-third")]


@pytest.mark.parametrize("settings_overrides", [{"cors_allowed_origins": ["https://app.example"]}])
def test_cors_only_for_configured_origins(gateway: Gateway) -> None:
    for origin, allowed in (("https://app.example", True), ("https://evil.example", False),
                            ("https://app.example.evil.example", False), ("null", False)):
        preflight = gateway.client.options("/v1/chat/completions", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})
        actual = gateway.get("/v1/models", headers={"Origin": origin})
        for reply in (preflight, actual):
            assert reply.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None), origin
        if allowed:
            assert "Origin" in actual.headers.get("Vary", "")


# ---- signed links and the store's prefixes ---------------------------------------------------------


def image_url(key: str, expires: int, signature: str) -> str:
    return f"/v1/images/{key.removeprefix('images/')}?expires={expires}&signature={signature}"


@pytest.fixture
def stored(gateway: Gateway) -> dict[str, Any]:
    svc = gateway.app.extensions["openai_compat"]
    key = "images/2026/01/01/" + "A" * 32 + ".png"
    other = "images/2026/01/01/" + "B" * 32 + ".png"
    for name in (key, other):
        svc.storage.put(name, b"\x89PNG-" + name.encode(), content_type="image/png")
    svc.storage.put_json("responses/resp_" + "1" * 32 + ".json", {"secret": "a stored response"})
    return {"key": key, "other": other, "signer": svc.link_signer, "svc": svc}


@pytest.mark.parametrize("settings_overrides", [{"url_signing_secret": SECRET}])
def test_signed_links_cannot_be_forged_extended_or_moved(gateway: Gateway, stored: dict[str, Any]) -> None:
    signer: LinkSigner = stored["signer"]
    key, other = stored["key"], stored["other"]
    expires = int(time.time()) + 60
    good = signer.signature(key, expires)
    assert gateway.client.get(image_url(key, expires, good)).status_code == 200
    attempts = {
        "forged with another secret": image_url(key, expires, LinkSigner(b"x" * 32).signature(key, expires)),
        "extended": image_url(key, expires + 3600, good),
        "moved to another object": image_url(other, expires, good),
        "no signature": f"/v1/images/{key.removeprefix('images/')}?expires={expires}",
        "truncated signature": image_url(key, expires, good[:-2]),
        "expiry not a number": image_url(key, expires, good).replace(f"expires={expires}", "expires=1e12"),
        "expired": image_url(key, int(time.time()) - 1, signer.signature(key, int(time.time()) - 1)),
    }
    for name, url in attempts.items():
        reply = gateway.client.get(url)
        assert reply.status_code == 403, (name, reply.status_code)
        assert b"PNG" not in reply.data


@pytest.mark.parametrize("settings_overrides", [{"url_signing_secret": SECRET}])
@pytest.mark.parametrize("path", [
    "../responses/resp_" + "1" * 32 + ".json", "..%2Fresponses%2Fresp_" + "1" * 32 + ".json",
    "2026/../../responses/resp_" + "1" * 32 + ".json", "/etc/passwd", "2026//01/x.png", "./2026/01/01/x.png",
])
def test_image_links_cannot_reach_outside_the_image_prefix(
    gateway: Gateway, stored: dict[str, Any], path: str
) -> None:
    signer: LinkSigner = stored["signer"]
    expires = int(time.time()) + 60
    for key in (f"images/{path}", path):  # even with a valid signature for what the path names
        reply = gateway.client.get(f"/v1/images/{path}?expires={expires}&signature={signer.signature(key, expires)}")
        assert reply.status_code in (308, 400, 403, 404), (path, reply.status_code)  # 308: slashes merged
        assert b"a stored response" not in reply.data


@pytest.mark.parametrize("response_id", ["..%2Fimages%2Fx", "resp_" + "1" * 31 + "/", "resp_../../x", "x" * 600])
def test_stored_responses_are_read_by_id_only(gateway: Gateway, stored: dict[str, Any], response_id: str) -> None:
    reply = gateway.get(f"/v1/responses/{response_id}")
    assert reply.status_code == 404 and b"secret" not in reply.data


def test_the_openapi_document_needs_a_key_and_lists_every_route(gateway: Gateway) -> None:
    assert gateway.client.get("/openapi.json").status_code == 401
    document = gateway.get("/openapi.json").get_json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    for method, rule in routes(gateway.app):
        path = rule.replace("<path:path>", "{path}").replace("<path:model>", "{model}").replace(
            "<response_id>", "{response_id}")
        unversioned = f"/v1{path}" if not path.startswith(("/v1", "/v2", "/health", "/ready", "/metrics",
                                                             "/admin", "/openapi")) else path
        assert (method, path) in documented or (method, unversioned) in documented \
            or path.startswith("/v1/v2/"), (method, rule)
