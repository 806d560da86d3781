"""LangChain's own standard test suites, unchanged, for `ChatOpenAI` and `OpenAIEmbeddings` pointed at the
gateway: once per upstream dialect (a classic Workers AI model and an OpenAI-style one).

The classes are `langchain-tests`' `ChatModelIntegrationTests` and `EmbeddingsIntegrationTests`; a test they
hold is overridden only to mark it xfail with the reason (which the compatibility table shows), never to
change what it checks. The questions these tests check the answers of are answered by the emulator's
script (`script.py`).
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import httpx2
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests, chat_models
from PIL import Image

from tests.support.gateway import GatewayHandle

CLASSIC = "@cf/meta/llama-4-scout-17b-16e-instruct"  # classic dialect, tools, and vision
OPENAI_STYLE = "@cf/zai-org/glm-4.7-flash"
# langchain-tests downloads the picture its image tests send; this machine has no network, so the same URL
# is answered with a picture made here (the tests themselves are unchanged).
TEST_IMAGE_URL = ("https://raw.githubusercontent.com/langchain-ai/docs/4d11d08b6b0e210bd456943f7a22febbd168b543/"
                  "src/images/agentic-rag-output.png")


@pytest.fixture(autouse=True)
def _offline_test_image(monkeypatch: pytest.MonkeyPatch) -> None:
    real_get = httpx.get

    def get(url: Any, *args: Any, **kwargs: Any) -> httpx.Response:
        if str(url) == TEST_IMAGE_URL:
            buffer = io.BytesIO()
            Image.new("RGB", (64, 48), (200, 60, 30)).save(buffer, "PNG")
            return httpx.Response(200, content=buffer.getvalue(), headers={"content-type": "image/png"})
        return real_get(url, *args, **kwargs)

    monkeypatch.setattr(chat_models.httpx, "get", get)


class _GatewayChat(ChatModelIntegrationTests):
    model_name = ""

    @pytest.fixture(autouse=True)
    def _wire(self, gateway: GatewayHandle, http_client: httpx2.Client, async_http_client: httpx2.AsyncClient) -> None:
        self._params = {
            "model": self.model_name,
            "base_url": gateway.base_url,
            "api_key": gateway.api_key,
            # LangChain asks for streamed usage only from api.openai.com unless told (its docs say so).
            "stream_usage": True,
            "http_client": http_client,
            "http_async_client": async_http_client,
        }

    @property
    def chat_model_class(self) -> type[ChatOpenAI]:
        return ChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return self._params

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return OPENAI_STYLE if self.model_name == CLASSIC else CLASSIC


@pytest.mark.compat("LangChain", "/v1/chat/completions", "`ChatOpenAI`: standard `ChatModelIntegrationTests`, "
                    "classic model (llama-4-scout, with images)", suite=True)
class TestChatOpenAIClassic(_GatewayChat):
    model_name = CLASSIC

    @property
    def supports_image_inputs(self) -> bool:
        return True


@pytest.mark.compat("LangChain", "/v1/chat/completions", "`ChatOpenAI`: standard `ChatModelIntegrationTests`, "
                    "OpenAI-style model (glm-4.7-flash)", suite=True)
class TestChatOpenAIOpenAIStyle(_GatewayChat):
    model_name = OPENAI_STYLE


@pytest.mark.compat("LangChain", "/v1/responses", "`ChatOpenAI(use_responses_api=True)`: standard "
                    "`ChatModelIntegrationTests`, classic model (llama-3.3-70b)", suite=True)
class TestChatOpenAIResponses(_GatewayChat):
    model_name = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"

    @pytest.fixture(autouse=True)
    def _responses(self, _wire: None) -> None:
        self._params["use_responses_api"] = True

    @property
    def model_override_value(self) -> str:
        return OPENAI_STYLE


@pytest.mark.compat("LangChain", "/v1/embeddings", "`OpenAIEmbeddings`: standard `EmbeddingsIntegrationTests`",
                    suite=True)
class TestOpenAIEmbeddings(EmbeddingsIntegrationTests):
    @pytest.fixture(autouse=True)
    def _wire(self, gateway: GatewayHandle, http_client: httpx2.Client, async_http_client: httpx2.AsyncClient) -> None:
        self._params = {
            "model": "text-embedding-3-small",
            "base_url": gateway.base_url,
            "api_key": gateway.api_key,
            # Token-id inputs (tiktoken) are OpenAI's own; Workers AI takes text (README: Embeddings).
            "check_embedding_ctx_length": False,
            "http_client": http_client,
            "http_async_client": async_http_client,
        }

    @property
    def embeddings_class(self) -> type[OpenAIEmbeddings]:
        return OpenAIEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return self._params
