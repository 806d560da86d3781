"""One Workers AI reply -> one OpenAI choice, streamed or whole, whatever the reply's form.

A reply can be JSON or SSE regardless of what was asked (some models answer a streaming request
with JSON), so both paths accept both forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from openai_compat.core.metering import Usage, estimate_tokens
from openai_compat.core.sse import QUIET, Quiet
from openai_compat.textgen.output import Generation, ToolCall, finish_generation, generation_from_result
from openai_compat.textgen.profiles import TextModelProfile
from openai_compat.textgen.request import TextRequest
from openai_compat.textgen.stream import Piece, ReasoningPiece, StreamDecoder, TextPiece, pieces_from_generation
from openai_compat.upstream import UpstreamReply


@dataclass(frozen=True)
class GenerationOptions:
    stops: list[str]
    native_stop: bool
    max_tokens: int
    parallel_tool_calls: bool
    prompt_estimate: int


def generation_options(request: TextRequest, profile: TextModelProfile) -> GenerationOptions:
    """What the gateway enforces on every choice of this request, whatever the model does on its own."""
    stops = [] if request.stop is None else [request.stop] if isinstance(request.stop, str) else list(request.stop)
    if request.prompt is not None:
        prompt_estimate = estimate_tokens(request.prompt)
    else:
        prompt_estimate = sum(estimate_tokens(turn.text) for turn in request.turns)
    return GenerationOptions(
        stops=stops,
        native_stop=profile.native_stop,
        max_tokens=request.max_tokens,
        parallel_tool_calls=request.parallel_tool_calls is not False,
        prompt_estimate=prompt_estimate,
    )


@dataclass
class ChoiceEnd:
    finish_reason: str
    usage: Usage


def _decoder(options: GenerationOptions) -> StreamDecoder:
    return StreamDecoder(
        stops=options.stops,
        native_stop=options.native_stop,
        max_tokens=options.max_tokens,
        parallel_tool_calls=options.parallel_tool_calls,
    )


def _finish(generation: Generation, options: GenerationOptions) -> Generation:
    return finish_generation(
        generation,
        stops=options.stops,
        parallel_tool_calls=options.parallel_tool_calls,
        prompt_estimate=options.prompt_estimate,
    )


def choice_stream(reply: UpstreamReply, options: GenerationOptions) -> Iterator[Piece | ChoiceEnd | Quiet]:
    """Pieces as the upstream produces them (and its silences, `QUIET`), then the choice's end."""
    if reply.events is None:
        generation = _finish(generation_from_result(reply.result, max_tokens=options.max_tokens), options)
        yield from pieces_from_generation(generation)
        assert generation.usage is not None
        yield ChoiceEnd(generation.finish_reason, generation.usage)
        return
    decoder = _decoder(options)
    for event in reply.events:
        if event is QUIET:
            yield QUIET
            continue
        yield from decoder.feed(event)  # type: ignore[arg-type]
        if decoder.stopped:
            reply.close()  # the client has its answer; stop paying for tokens it will not see
            break
    yield from decoder.close()
    yield ChoiceEnd(decoder.finish_reason(), decoder.final_usage(options.prompt_estimate))


def choice_generation(reply: UpstreamReply, options: GenerationOptions) -> Generation:
    """The whole choice, reading a stream to its end if that is what came back."""
    if reply.events is None:
        return _finish(generation_from_result(reply.result, max_tokens=options.max_tokens), options)
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, ToolCall] = {}
    end = None
    for item in choice_stream(reply, options):
        if isinstance(item, TextPiece):
            text.append(item.text)
        elif isinstance(item, ReasoningPiece):
            reasoning.append(item.text)
        elif isinstance(item, ChoiceEnd):
            end = item
        elif item is QUIET:
            continue
        elif item.index in calls:
            calls[item.index].arguments += item.arguments
        else:
            calls[item.index] = ToolCall(item.id or "", item.name or "", item.arguments)
    assert end is not None
    return Generation(
        "".join(text) if text or not calls else None,
        list(calls.values()),
        end.finish_reason,
        end.usage,
        "".join(reasoning) or None,
    )
