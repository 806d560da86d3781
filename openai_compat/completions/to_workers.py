"""Legacy Completions request -> neutral text requests, one per prompt. Pure functions: no I/O."""

from __future__ import annotations

from openai_compat.completions.protocol import CompletionRequest
from openai_compat.errors import InvalidRequestError
from openai_compat.textgen.request import TextRequest
from openai_compat.textgen.sampling import common_refusals, refuse, sampling_of

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
    refuse([
        ("suffix", bool(req.suffix), "suffix (insertion) is not supported by Workers AI models."),
        ("best_of", (req.best_of or 1) > 1, "best_of > 1 is not supported: use n."),
        ("logprobs", req.logprobs is not None, "Workers AI does not return token log probabilities."),
        ("prompt", prompt_count * (req.n or 1) > MAX_TOTAL_CHOICES,
         f"At most {MAX_TOTAL_CHOICES} choices (prompts x n) per request."),
        *common_refusals(req),
    ])


def text_request(req: CompletionRequest, prompt: str, *, max_tokens: int) -> TextRequest:
    return TextRequest(
        max_tokens=max_tokens,
        stream=bool(req.stream),
        prompt=prompt,
        sampling=sampling_of(req),
        stop=req.stop,
        parallel_tool_calls=False,
    )
