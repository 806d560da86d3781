"""Envelope, auth, routing, error codes, model search, control API and request log."""

from __future__ import annotations

import requests

from tests.support.emulator import EmulatorHandle, start_emulator

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CHAT = {"messages": [{"role": "user", "content": "hi"}]}


def errors(response: requests.Response) -> list[tuple[int, str]]:
    body = response.json()
    assert body["success"] is False
    assert body["result"] is None
    assert body["messages"] == []
    return [(e["code"], e["message"]) for e in body["errors"]]


def test_health_needs_no_auth(emu: EmulatorHandle) -> None:
    response = requests.get(f"{emu.url}/__emulator/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_success_envelope(emu: EmulatorHandle) -> None:
    response = emu.run(LLAMA, CHAT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is True
    assert body["errors"] == [] and body["messages"] == []
    assert body["result"]["response"] == "Hello! You said: hi"


def test_missing_auth_is_9106(emu: EmulatorHandle) -> None:
    response = requests.post(emu.run_url(LLAMA), json=CHAT, timeout=5)
    assert response.status_code == 401
    assert errors(response) == [(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")]


def test_wrong_token_is_10000(emu: EmulatorHandle) -> None:
    response = emu.run(LLAMA, CHAT, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert errors(response) == [(10000, "Authentication error")]
    response = emu.run(LLAMA, CHAT, headers={"Authorization": "Basic emulator-token"})
    assert errors(response) == [(10000, "Authentication error")]


def test_custom_token() -> None:
    with start_emulator(token="other-secret") as emu:
        assert emu.run(LLAMA, CHAT).status_code == 200
        assert emu.run(LLAMA, CHAT, headers={"Authorization": "Bearer emulator-token"}).status_code == 401


def test_bad_account_is_7003_and_7000(emu: EmulatorHandle) -> None:
    path = f"/client/v4/accounts/not-an-account/ai/run/{LLAMA}"
    response = requests.post(emu.url + path, json=CHAT, headers=emu.headers, timeout=5)
    assert response.status_code == 404
    assert errors(response) == [
        (7003, f"Could not route to {path}, perhaps your object identifier is invalid?"),
        (7000, "No route for that URI"),
    ]
    upper = emu.run_url(LLAMA).replace(emu.account_id, emu.account_id.upper())
    assert requests.post(upper, json=CHAT, headers=emu.headers, timeout=5).status_code == 404


def test_any_hex_account_works(emu: EmulatorHandle) -> None:
    url = f"{emu.base_url}/accounts/{'f' * 32}/ai/run/{LLAMA}"
    assert requests.post(url, json=CHAT, headers=emu.headers, timeout=5).status_code == 200


def test_unknown_route_and_method(emu: EmulatorHandle) -> None:
    response = requests.get(f"{emu.url}/client/v4/nothing/here", headers=emu.headers, timeout=5)
    assert response.status_code == 404
    assert errors(response) == [(7000, "No route for that URI")]
    response = requests.get(emu.run_url(LLAMA), headers=emu.headers, timeout=5)
    assert response.status_code == 405
    assert errors(response) == [(7001, "GET not supported for requested URI.")]


def test_unknown_model_is_5007(emu: EmulatorHandle) -> None:
    response = emu.run("@cf/meta/llama-99-nope", CHAT)
    assert response.status_code == 400
    assert errors(response) == [(5007, "No such model @cf/meta/llama-99-nope or task")]
    assert emu.run("@hf/someone/model", CHAT).json()["errors"][0]["code"] == 5007


def test_malformed_model_is_3042(emu: EmulatorHandle) -> None:
    for name in ("llama", "@cf/llama", "@xx/meta/llama", "gpt-4o"):
        response = emu.run(name, CHAT)
        assert response.status_code == 404, name
        assert errors(response) == [(3042, "The model name is invalid")]


def test_bad_json_and_empty_body_are_5006(emu: EmulatorHandle) -> None:
    for data in (b"{not json", b"", b"\xff\xfe"):
        response = requests.post(emu.run_url(LLAMA), data=data, headers=emu.headers, timeout=5)
        assert response.status_code == 400
        [(code, message)] = errors(response)
        assert code == 5006
        assert message.startswith("AiError: Bad input: Error: ")


def test_schema_failure_is_5006(emu: EmulatorHandle) -> None:
    response = emu.run(LLAMA, {"prompt": "hi", "temperature": 9})
    assert response.status_code == 400
    [(code, message)] = errors(response)
    assert code == 5006
    assert message.startswith("AiError: Bad input: Error: ")
    assert "temperature" in message


def test_body_limit_is_3006() -> None:
    with start_emulator("--max-body-mb", "0.01") as emu:
        response = emu.run(LLAMA, {"prompt": "x" * 20_000})
        assert response.status_code == 413
        assert errors(response) == [(3006, "Request is too large")]
        assert emu.run(LLAMA, {"prompt": "small"}).status_code == 200


def test_gateway_url_forms(emu: EmulatorHandle) -> None:
    for path in (f"workers-ai/{LLAMA}", f"workers-ai/run/{LLAMA}"):
        url = f"{emu.url}/v1/{emu.account_id}/my-gateway/{path}"
        response = requests.post(url, json=CHAT, headers=emu.headers, timeout=5)
        assert response.status_code == 200, path
        assert response.json()["result"]["response"] == "Hello! You said: hi"
    bad = requests.post(f"{emu.url}/v1/abc/gw/workers-ai/{LLAMA}", json=CHAT, headers=emu.headers, timeout=5)
    assert bad.status_code == 404
    assert [code for code, _ in errors(bad)] == [7003, 7000]


# ---- models/search -------------------------------------------------------------


def search(emu: EmulatorHandle, **params: str | int) -> dict:
    response = requests.get(f"{emu.account_url}/ai/models/search", params=params, headers=emu.headers, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    return body


def test_search_records(emu: EmulatorHandle) -> None:
    body = search(emu)
    names = [record["name"] for record in body["result"]]
    assert LLAMA in names and "@cf/baai/bge-m3" in names and "@cf/zai-org/glm-4.7-flash" in names
    record = next(r for r in body["result"] if r["name"] == LLAMA)
    assert set(record) == {"id", "source", "name", "description", "task", "created_at", "tags", "properties"}
    assert record["task"]["name"] == "Text Generation"
    assert set(record["task"]) == {"id", "name", "description"}
    properties = {p["property_id"]: p["value"] for p in record["properties"]}
    assert properties["context_window"] == "24000"
    assert properties["function_calling"] == "true"
    scout = next(r for r in body["result"] if r["name"] == "@cf/meta/llama-4-scout-17b-16e-instruct")
    assert {"property_id": "vision", "value": "true"} in scout["properties"]
    info = body["result_info"]
    assert info == {"page": 1, "per_page": 100, "count": len(names), "total_count": len(names), "total_pages": 1}


def test_search_filters_and_pages(emu: EmulatorHandle) -> None:
    embeddings = search(emu, task="text embeddings")["result"]
    assert embeddings and all(r["task"]["name"] == "Text Embeddings" for r in embeddings)
    dims = {r["name"]: {p["property_id"]: p["value"] for p in r["properties"]}.get("output_dimensions")
            for r in embeddings}
    assert dims["@cf/baai/bge-small-en-v1.5"] == "384"
    assert [r["name"] for r in search(emu, search="Scout")["result"]] == ["@cf/meta/llama-4-scout-17b-16e-instruct"]
    assert search(emu, search="vector")["result"]  # matches descriptions too
    assert search(emu, task="Summarization")["result"] == []
    assert [r["name"] for r in search(emu, task="Translation")["result"]] == ["@cf/meta/m2m100-1.2b"]
    total = search(emu)["result_info"]["total_count"]
    page2 = search(emu, page=2, per_page=3)
    assert page2["result_info"] == {
        "page": 2, "per_page": 3, "count": 3, "total_count": total, "total_pages": -(-total // 3),
    }
    all_names = [r["name"] for r in search(emu)["result"]]
    assert [r["name"] for r in page2["result"]] == all_names[3:6]


def test_search_needs_auth_and_account(emu: EmulatorHandle) -> None:
    url = f"{emu.account_url}/ai/models/search"
    assert requests.get(url, timeout=5).status_code == 401
    bad = requests.get(f"{emu.base_url}/accounts/xyz/ai/models/search", headers=emu.headers, timeout=5)
    assert bad.status_code == 404


# ---- control API and request log ---------------------------------------------------


def test_fault_control_api(emu: EmulatorHandle) -> None:
    body = emu.set_faults(ttft_ms=5, tokens=3)
    assert body["faults"]["runtime"] == {"ttft_ms": 5.0, "tokens": 3}
    current = requests.get(f"{emu.url}/__emulator/faults", timeout=5).json()
    assert current["faults"]["runtime"] == {"ttft_ms": 5.0, "tokens": 3}
    emu.set_faults(cut_after=1)  # a POST replaces the whole runtime layer
    assert requests.get(f"{emu.url}/__emulator/faults", timeout=5).json()["faults"]["runtime"] == {"cut_after": 1}
    emu.clear_faults()
    assert requests.get(f"{emu.url}/__emulator/faults", timeout=5).json()["faults"]["runtime"] == {}
    for bad in ({"nope": 1}, {"ttft_ms": "slow"}, {"tokens": -1}):
        response = requests.post(f"{emu.url}/__emulator/faults", json=bad, timeout=5)
        assert response.status_code == 400
        assert response.json()["ok"] is False


def test_request_log(emu: EmulatorHandle) -> None:
    emu.run(LLAMA, {"prompt": "first"}, headers={"X-Custom": "yes"})
    requests.post(emu.run_url(LLAMA), data=b"not json", headers=emu.headers, timeout=5)
    emu.run(LLAMA, {"prompt": "third"}, headers={"Authorization": "Bearer wrong"})
    log = emu.requests()
    assert len(log) == 3
    first, second, third = log
    assert first["method"] == "POST"
    assert first["path"] == f"/client/v4/accounts/{emu.account_id}/ai/run/{LLAMA}"
    assert first["json"] == {"prompt": "first"}
    assert first["headers"]["x-custom"] == "yes"
    assert first["headers"]["authorization"] == "Bearer [redacted]"
    assert emu.token not in str(log)
    assert second["json"] is None
    assert third["json"] == {"prompt": "third"}  # logged even though auth failed
    emu.clear_requests()
    assert emu.requests() == []


def test_request_log_keeps_last_100(emu: EmulatorHandle) -> None:
    with requests.Session() as session:
        for i in range(105):
            session.post(emu.run_url("@cf/baai/bge-small-en-v1.5"), json={"text": str(i)}, headers=emu.headers)
    log = emu.requests()
    assert len(log) == 100
    assert log[0]["json"] == {"text": "5"} and log[-1]["json"] == {"text": "104"}


def test_search_is_not_logged(emu: EmulatorHandle) -> None:
    search(emu)
    assert emu.requests() == []
