"""pydantic-ai: a structured output through the gateway, as its documentation shows it for an
OpenAI-compatible server (`OpenAIProvider(base_url=...)`).

Why pydantic-ai rather than instructor: among the Python packages built for structured output from LLMs,
pydantic-ai (`pydantic-ai-slim`) is the more used of the two by downloads (in the package index's
most-downloaded lists it ranks around 140th, instructor around 1,170th), and instructor's current release
cannot be installed beside the current `openai` SDK (it caps `jiter` below what `openai` 3.x needs).

Each of pydantic-ai's ways to get a typed answer is used: a tool call (its default `ToolOutput`), the
model's JSON-schema mode (`NativeOutput`), both on Chat Completions, and the default over the Responses API.
"""

from __future__ import annotations

import httpx2
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider

from tests.conformance.script import CITY
from tests.conformance.wire import SpecCheck
from tests.support.gateway import GatewayHandle

PYDANTIC_AI = "pydantic-ai"
QUESTION = "Which is the largest city in France?"


class City(BaseModel):
    city: str
    country: str
    population: int


@pytest.fixture
def provider(gateway: GatewayHandle, async_http_client: httpx2.AsyncClient) -> OpenAIProvider:
    return OpenAIProvider(base_url=gateway.base_url, api_key=gateway.api_key, http_client=async_http_client)


@pytest.mark.parametrize("model", ["gpt-4.1", "gpt-4o-mini"], ids=["classic", "openai-style"])
@pytest.mark.compat(PYDANTIC_AI, "/v1/chat/completions", "`Agent(output_type=Model)`: tool output (the default), "
                    "both dialects")
async def test_tool_output(provider: OpenAIProvider, spec: SpecCheck, model: str) -> None:
    agent = Agent(OpenAIChatModel(model, provider=provider), output_type=City)
    result = await agent.run(QUESTION)
    assert result.output == City(**CITY)
    assert result.usage.requests == 1 and result.usage.input_tokens > 0
    assert spec.validated["CreateChatCompletionResponse"] == 1 or not spec.spec_present


@pytest.mark.compat(PYDANTIC_AI, "/v1/chat/completions", "`NativeOutput` (JSON schema response format), streamed")
async def test_native_output_streamed(provider: OpenAIProvider, spec: SpecCheck) -> None:
    agent = Agent(OpenAIChatModel("gpt-4o-mini", provider=provider), output_type=NativeOutput(City))
    async with agent.run_stream(QUESTION) as run:
        output = await run.get_output()
    assert output == City(**CITY)
    assert spec.validated["CreateChatCompletionStreamResponse"] > 1 or not spec.spec_present


@pytest.mark.compat(PYDANTIC_AI, "/v1/responses", "`Agent(output_type=Model)` on `OpenAIResponsesModel`")
async def test_responses_model(provider: OpenAIProvider, spec: SpecCheck) -> None:
    agent = Agent(OpenAIResponsesModel("gpt-4.1", provider=provider), output_type=City)
    result = await agent.run(QUESTION)
    assert result.output == City(**CITY)
    assert spec.validated["Response"] == 1 or not spec.spec_present
