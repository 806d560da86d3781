"""Model-running routes: native ``/ai/run`` (and its AI Gateway twin) and the
OpenAI dialect under ``/ai/v1``.

Each native request is checked in the real service's order (forced fault,
model name, JSON, schema) and then handed to its family's handler. The
OpenAI-dialect routes deliberately skip the native schemas: they front
peers such as LiteLLM that send extra OpenAI fields, so they only check
what they need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from . import audio, embeddings, formats, images, llama_guard, reranker, streaming
from .access import admit, parse_json, settings_of
from .breakage import FAULTS, hang
from .envelope import ApiError, bad_input, json_response, success
from .faults import Faults
from .registry import MODEL_NAME_RE, MODELS, ModelSpec
from .textgen import Plan, make_plan, read_conversation

CLASSIC_MAX_TOKENS = 256
_validators: dict[str, Draft202012Validator] = {}


def resolve_model(name: str) -> ModelSpec:
    spec = MODELS.get(name)
    if spec is not None:
        return spec
    if MODEL_NAME_RE.match(name):
        raise ApiError(5007, model=name)
    raise ApiError(3042)


def _describe(error: ValidationError) -> str:
    pointer = "/" + "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return f"{error.validator} at '{pointer}' not met, {message}"


def validate(spec: ModelSpec, body: Any) -> None:
    validator = _validators.get(spec.name)
    if validator is None:
        validator = _validators[spec.name] = Draft202012Validator(spec.input_schema)
    error = best_match(validator.iter_errors(body))
    if error is not None:
        raise bad_input(_describe(error))


async def pace(faults: Faults, tokens: int) -> None:
    """Non-streamed answers wait as long as the stream would have taken."""
    seconds = (faults.ttft_ms + tokens * faults.token_delay_ms) / 1000
    if seconds > 0:
        await asyncio.sleep(seconds)


def _streaming(body: dict[str, Any], faults: Faults) -> bool:
    return body.get("stream") is True and not faults.stream_as_json


# ---- native families -------------------------------------------------------------

Handler = Callable[[web.Request, ModelSpec, dict[str, Any], Faults], Awaitable[web.StreamResponse]]


async def classic(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.StreamResponse:
    """llama family: ``{response, tool_calls, usage}``; JSON mode never streams."""
    plan = make_plan(
        body,
        vision=spec.vision,
        max_tokens=body.get("max_tokens", CLASSIC_MAX_TOKENS),
        honour_stop=False,
        wrapped_json=False,
        forced_tokens=faults.tokens,
        script=settings_of(request).script,
    )
    if _streaming(body, faults) and not plan.is_json:
        return await streaming.write_sse(request, streaming.classic_events(plan, spec.tool_stream), faults)
    await pace(faults, plan.completion_tokens)
    return success(formats.classic_result(plan))


def _openai_plan(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults,
                 max_tokens: int | None) -> Plan:
    return make_plan(
        body,
        vision=spec.vision and "parts",
        max_tokens=max_tokens,
        honour_stop=spec.family != "classic",
        wrapped_json=True,
        forced_tokens=faults.tokens,
        script=settings_of(request).script,
    )


def _openai_max_tokens(body: dict[str, Any], default: int | None) -> int | None:
    value = body.get("max_completion_tokens") or body.get("max_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else default


async def openai_style(
    request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults
) -> web.StreamResponse:
    """glm-4.7-flash: a ``chat.completion`` result; streams chunks with usage on the last."""
    plan = _openai_plan(request, spec, body, faults, _openai_max_tokens(body, None))
    ident = formats.Identity(model=spec.name)
    if _streaming(body, faults):
        events = streaming.chunk_events(plan, ident, usage_on_final=True, usage_chunk=False)
        return await streaming.write_sse(request, events, faults)
    await pace(faults, plan.completion_tokens)
    return success(formats.chat_completion(plan, ident))


async def gpt_oss(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.StreamResponse:
    """gpt-oss picks its dialect from the body and, like the real one, never streams on /ai/run."""
    limit = body.get("max_output_tokens") if "input" in body else _openai_max_tokens(body, None)
    plan = make_plan(
        body,
        vision=None,
        max_tokens=limit if isinstance(limit, int) else None,
        honour_stop=True,
        wrapped_json=False,
        forced_tokens=faults.tokens,
        script=settings_of(request).script,
    )
    ident = formats.Identity(model=spec.name)
    await pace(faults, plan.completion_tokens)
    if body.get("stream") is True and faults.empty_when_streamed:
        return success({})
    if "messages" in body:
        return success(formats.chat_completion(plan, ident))
    if "prompt" in body:
        return success(formats.text_completion(plan, ident))
    return success(formats.responses_object(plan, ident))


async def embedding(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.StreamResponse:
    await pace(faults, 0)
    return success(embeddings.native_result(spec, body))


def json_model(result: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """A model that answers one JSON result computed from its (schema-valid) body."""

    async def handle(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.Response:
        await pace(faults, 0)
        return success(result(body))

    return handle


FAMILIES: dict[str, Handler] = {
    "classic": classic, "openai": openai_style, "gpt-oss": gpt_oss, "embedding": embedding,
    "llama-guard": json_model(llama_guard.verdict), "reranker": json_model(reranker.ranking),
    "image": images.run_json, "translation": audio.m2m100, "tts": audio.speak,
}


async def run_model(request: web.Request) -> web.StreamResponse:
    """``POST .../ai/run/{model}`` and ``POST /v1/{account}/{gateway}/workers-ai/{model}``."""
    raw = await admit(request)
    state = settings_of(request).faults
    faults, from_headers = state.resolve(request.headers)
    name = request.match_info["model"]
    name = name.removeprefix("run/")  # the AI Gateway also accepts .../workers-ai/run/{model}
    request[FAULTS] = faults
    await hang(request, faults)
    failure = state.failure(from_headers, request.path, name)
    if failure is not None:
        raise failure
    spec = resolve_model(name)
    if spec.family == "image-form":  # FLUX.2 takes a multipart form, not JSON
        return await images.run_form(request, spec, raw, faults)
    if spec.family == "asr":  # raw audio bodies as well as JSON
        return await audio.recognise(request, spec, raw, faults, validate)
    body = parse_json(raw)
    if spec.vision == "parts" and isinstance(body, dict):
        read_conversation(body, "parts")  # refuses http(s) image URLs with the model's own message
    validate(spec, body)
    return await FAMILIES[spec.family](request, spec, body, faults)


# ---- OpenAI dialect --------------------------------------------------------------------


async def _openai_prelude(request: web.Request, family_ok: Callable[[ModelSpec], bool]) -> tuple[
    ModelSpec, dict[str, Any], Faults
]:
    raw = await admit(request)
    state = settings_of(request).faults
    faults, from_headers = state.resolve(request.headers)
    request[FAULTS] = faults
    await hang(request, faults)
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise bad_input("request body must be a JSON object")
    model = body.get("model")
    failure = state.failure(from_headers, request.path, str(model))
    if failure is not None:
        raise failure
    if not isinstance(model, str) or not model:
        raise bad_input("model is required")
    spec = resolve_model(model)
    if not family_ok(spec):
        raise ApiError(5007, model=model)
    return spec, body, faults


async def openai_chat(request: web.Request) -> web.StreamResponse:
    """``POST .../ai/v1/chat/completions``: plain OpenAI objects for every text model."""
    spec, body, faults = await _openai_prelude(request, lambda s: s.task == "Text Generation")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise bad_input("messages must be a non-empty array of message objects")
    default_max = CLASSIC_MAX_TOKENS if spec.family == "classic" else None
    plan = _openai_plan(request, spec, body, faults, _openai_max_tokens(body, default_max))
    ident = formats.Identity(model=spec.name)
    if _streaming(body, faults):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        events = streaming.chunk_events(plan, ident, usage_on_final=False, usage_chunk=include_usage)
        return await streaming.write_sse(request, events, faults)
    await pace(faults, plan.completion_tokens)
    return json_response(formats.chat_completion(plan, ident))


async def openai_embeddings(request: web.Request) -> web.StreamResponse:
    """``POST .../ai/v1/embeddings``: inputs are checked against the model's native limits."""
    spec, body, faults = await _openai_prelude(request, lambda s: s.family == "embedding")
    texts = embeddings.openai_inputs(body.get("input"))
    if texts is None:
        raise bad_input("input must be a string, an array of strings or token arrays")
    validate(spec, {"text": texts})
    await pace(faults, 0)
    return json_response(embeddings.openai_result(spec, texts, body.get("encoding_format")))
