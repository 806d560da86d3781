"""/v1/models in-process: the configured aliases plus the (mocked) Workers AI catalogue."""

from __future__ import annotations

import pytest

from tests.service.conftest import LLAMA, Gateway

CATALOGUE = [
    {"name": LLAMA, "task": {"name": "Text Generation"}, "created_at": "2024-12-06 17:09:18.338"},
    {"name": "@cf/baai/bge-m3", "task": {"name": "Text Embeddings"}, "created_at": "2024-05-22 19:27:09.781"},
]


@pytest.mark.parametrize("catalogue_records", [CATALOGUE])
def test_list_has_aliases_first_then_the_catalogue(gateway: Gateway) -> None:
    reply = gateway.get("/v1/models")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert ids == ["gpt-4o-mini", LLAMA, "@cf/baai/bge-m3"]
    alias = body["data"][0]
    assert alias["object"] == "model" and alias["workers_ai_model"] == LLAMA
    assert alias["created"] > 0  # taken from the catalogue entry it points at
    bge = body["data"][2]
    assert bge["owned_by"] == "baai" and bge["task"] == "Text Embeddings" and bge["created"] > 0


@pytest.mark.parametrize("catalogue_records", [CATALOGUE])
def test_catalogue_is_fetched_once_for_several_listings(gateway: Gateway) -> None:
    for _ in range(3):
        assert gateway.get("/v1/models").status_code == 200
    assert len(gateway.catalogue_calls()) == 1


@pytest.mark.parametrize("catalogue_records", [CATALOGUE])
def test_aliases_are_listed_when_the_catalogue_is_unreachable(gateway: Gateway) -> None:
    gateway.upstream.replace("GET", gateway.upstream.registered()[0].url, status=500, json={"success": False})
    reply = gateway.get("/v1/models")
    assert reply.status_code == 200
    assert [m["id"] for m in reply.get_json()["data"]] == ["gpt-4o-mini"]
    [call] = gateway.catalogue_calls()
    assert call.response.status_code == 500


@pytest.mark.parametrize("catalogue_records", [CATALOGUE])
def test_retrieve_alias_and_catalogue_model(gateway: Gateway) -> None:
    alias = gateway.get("/v1/models/gpt-4o-mini").get_json()
    assert alias["id"] == "gpt-4o-mini" and alias["workers_ai_model"] == LLAMA
    listed = gateway.get(f"/v1/models/{LLAMA}").get_json()
    assert listed["id"] == LLAMA and listed["owned_by"] == "meta"


def test_retrieve_unknown_model_is_404(gateway: Gateway) -> None:
    reply = gateway.get("/v1/models/@cf/nobody/nothing")
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "model_not_found"


def test_models_need_a_key(gateway: Gateway) -> None:
    assert gateway.client.get("/v1/models").status_code == 401
    assert gateway.client.get("/v1/models", headers={"Authorization": "Bearer sk-wrong"}).status_code == 401


def test_health_needs_no_key_and_never_calls_upstream(gateway: Gateway) -> None:
    reply = gateway.client.get("/health")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}
    assert len(gateway.upstream.calls) == 0
