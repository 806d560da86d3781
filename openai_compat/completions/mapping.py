"""Legacy Completions <-> Workers AI: pure functions, no I/O."""

from __future__ import annotations

from typing import Any

from openai_compat.completions.protocol import CompletionRequest
from openai_compat.errors import InvalidRequestError
from openai_compat.textgen.output import Generation, Usage, combine_usage
from openai_compat.textgen.profiles import TextModelProfile
from openai_compat.textgen.sampling import common_refusals, refuse, sampling_input
from openai_compat.textgen.stream import Piece, TextPiece

MAX_TOTAL_CHOICES = 16


def prompts_of(req: CompletionRequest) -> list[str]:
    """The prompts to answer, one choice group each; refuses what Workers AI cannot take."""
    prompt = req.prompt
    if isinstance(prompt, str):
        prompts = [prompt]
    elif all(isinstance(p, str) for p in prompt):
        prompts = list(prompt)  # type: ignore[arg-type]
    else:
        raise InvalidRequestError(
            "Token-id prompts cannot be served: Workers AI takes text. Send the prompt as a string.",
            param="prompt", code="unsupported_parameter",
        )
    if not prompts:
        raise InvalidRequestError("prompt must not be an empty list.", param="prompt")
    for i, text in enumerate(prompts):
        if not text:
            param = "prompt" if len(prompts) == 1 else f"prompt[{i}]"
            raise InvalidRequestError("prompt must not be empty.", param=param)
    return prompts


def check_supported(req: CompletionRequest, prompt_count: int) -> None:
    refusals = [
        ("suffix", bool(req.suffix), "suffix (insertion) is not supported by Workers AI models."),
        ("best_of", (req.best_of or 1) > 1, "best_of > 1 is not supported: use n."),
        ("logprobs", req.logprobs is not None, "Workers AI does not return token log probabilities."),
        ("prompt", prompt_count * (req.n or 1) > MAX_TOTAL_CHOICES,
         f"At most {MAX_TOTAL_CHOICES} choices (prompts x n) per request."),
        *common_refusals(req),
    ]
    refuse(refusals)


def completion_input(
    req: CompletionRequest, prompt: str, profile: TextModelProfile, *, max_tokens: int, stream: bool
) -> dict[str, Any]:
    out = sampling_input(req, dialect=profile.dialect)
    if profile.dialect == "openai":
        out["messages"] = [{"role": "user", "content": prompt}]
        out["max_completion_tokens"] = max_tokens
        if req.stop is not None:
            out["stop"] = req.stop
        if stream:
            out["stream_options"] = {"include_usage": True}
    else:
        out["prompt"] = prompt
        out["max_tokens"] = max_tokens
    if stream:
        out["stream"] = True
    return out


def completion_body(
    *, completion_id: str, created: int, model: str, generations: list[Generation], echoes: list[str], n: int
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {"text": echo + (g.content or ""), "index": i, "logprobs": None, "finish_reason": g.finish_reason}
            for i, (g, echo) in enumerate(zip(generations, echoes, strict=True))
        ],
        "usage": combine_usage([g.usage for g in generations if g.usage], n).body(),
    }


class CompletionChunkWriter:
    """Streamed Completions chunks are whole `text_completion` objects carrying a piece of text."""

    def __init__(self, completion_id: str, created: int, model: str, echoes: list[str]) -> None:
        self._head = {"id": completion_id, "object": "text_completion", "created": created, "model": model}
        self._echoes = echoes

    def _chunk(self, index: int, text: str, finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}
        return {**self._head, "choices": [choice]}

    def role(self, index: int) -> dict[str, Any] | None:
        return self._chunk(index, self._echoes[index]) if self._echoes[index] else None

    def piece(self, index: int, piece: Piece) -> dict[str, Any] | None:
        return self._chunk(index, piece.text) if isinstance(piece, TextPiece) else None

    def finish(self, index: int, finish_reason: str) -> dict[str, Any]:
        return self._chunk(index, "", finish_reason)

    def usage(self, usage: Usage) -> dict[str, Any]:
        return {**self._head, "choices": [], "usage": usage.body()}
