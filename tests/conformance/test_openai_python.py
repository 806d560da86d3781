"""The official `openai` Python SDK against every resource the gateway serves, with the helpers users rely
on, as a user writes them: the SDK's own parsing and helpers are what is asserted, and every body and
streamed event it receives is checked against OpenAI's spec (conftest `spec`).

Chat runs on one model of each upstream dialect: `gpt-4.1` (llama-3.3-70b, a classic Workers AI model) and
`gpt-4o-mini` (glm-4.7-flash, an OpenAI-style one).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import time

import httpx2
import openai
import pytest
from PIL import Image
from pydantic import BaseModel

from tests.conformance.script import CITY
from tests.conformance.wire import SpecCheck
from tests.support.audio import make_wav

PY = "openai (Python)"
DIALECTS = pytest.mark.parametrize("model", ["gpt-4.1", "gpt-4o-mini"], ids=["classic", "openai-style"])
HI = [{"role": "user", "content": "Hi"}]
CITY_PROMPT = [{"role": "user", "content": "Which is the largest city in France?"}]


class City(BaseModel):
    city: str
    country: str
    population: int


class GetWeather(BaseModel):
    """The weather in a city."""

    city: str


# ---- models -----------------------------------------------------------------------------------------------


@pytest.mark.compat(PY, "/v1/models", "`models.list`, `models.retrieve` (alias and `@cf/...` id)")
def test_models(client: openai.OpenAI, spec: SpecCheck) -> None:
    ids = {m.id for m in client.models.list()}
    assert {"gpt-4o-mini", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"} <= ids
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    assert client.models.retrieve("@cf/zai-org/glm-4.7-flash").object == "model"
    assert spec.validated["ListModelsResponse"] == 1 or not spec.spec_present


# ---- chat completions -------------------------------------------------------------------------------------


@DIALECTS
@pytest.mark.compat(PY, "/v1/chat/completions", "`create`")
def test_chat_create(client: openai.OpenAI, model: str) -> None:
    reply = client.chat.completions.create(model=model, messages=HI)
    assert reply.choices[0].message.content == "Hello! You said: Hi"
    assert reply.choices[0].finish_reason == "stop" and reply.model == model
    assert reply.usage is not None and reply.usage.total_tokens > 0


@DIALECTS
@pytest.mark.compat(PY, "/v1/chat/completions", "`create(stream=True)` with `stream_options.include_usage`")
def test_chat_stream(client: openai.OpenAI, spec: SpecCheck, model: str) -> None:
    chunks = list(client.chat.completions.create(model=model, messages=HI, stream=True,
                                                 stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello! You said: Hi"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert spec.validated["CreateChatCompletionStreamResponse"] == len(chunks) or not spec.spec_present


@DIALECTS
@pytest.mark.compat(PY, "/v1/chat/completions", "`stream()` helper: events and `get_final_completion()`")
def test_chat_stream_helper(client: openai.OpenAI, model: str) -> None:
    with client.chat.completions.stream(model=model, messages=HI) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == "Hello! You said: Hi"
    plain = client.chat.completions.create(model=model, messages=HI)
    assert final.choices[0].message.content == plain.choices[0].message.content
    assert final.choices[0].finish_reason == plain.choices[0].finish_reason


@DIALECTS
@pytest.mark.compat(PY, "/v1/chat/completions", "tool-call stream: `stream()` with `pydantic_function_tool`, "
                    "`parsed_arguments`, final message equal to the non-streamed one")
def test_chat_tool_call_stream(client: openai.OpenAI, model: str) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris"}]
    tools = [openai.pydantic_function_tool(GetWeather)]
    with client.chat.completions.stream(model=model, messages=messages, tools=tools) as stream:
        events = list(stream)
        streamed = stream.get_final_completion()
    deltas = [e.chunk.choices[0].delta for e in events if e.type == "chunk" and e.chunk.choices]
    assert deltas[0].role == "assistant" and any(d.tool_calls for d in deltas)
    assert all(d.content is None for d in deltas)  # a model that calls a tool says null from the first delta on
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [e.parsed_arguments for e in done] == [GetWeather(city="Paris")]
    plain = client.chat.completions.parse(model=model, messages=messages, tools=tools)
    for reply in (streamed, plain):
        message = reply.choices[0].message
        assert reply.choices[0].finish_reason == "tool_calls" and message.content is None
        assert message.tool_calls and message.tool_calls[0].function.parsed_arguments == GetWeather(city="Paris")
    assert (streamed.choices[0].message.tool_calls[0].function.arguments
            == plain.choices[0].message.tool_calls[0].function.arguments)


@DIALECTS
@pytest.mark.compat(PY, "/v1/chat/completions", "`parse()` with a pydantic `response_format`")
def test_chat_parse(client: openai.OpenAI, model: str) -> None:
    reply = client.chat.completions.parse(model=model, messages=CITY_PROMPT, response_format=City)
    assert reply.choices[0].message.parsed == City(**CITY)


@pytest.mark.compat(PY, "/v1/chat/completions", "`with_raw_response`: headers, `x-request-id`, `parse()`")
def test_with_raw_response(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HI)
    assert raw.status_code == 200 and raw.headers["x-workers-ai-model"] == "@cf/zai-org/glm-4.7-flash"
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello! You said: Hi"
    assert completion._request_id == raw.headers["x-request-id"] and raw.request_id


# ---- legacy completions -----------------------------------------------------------------------------------


@pytest.mark.compat(PY, "/v1/completions", "`create`, and `create(stream=True)`")
def test_completions(client: openai.OpenAI) -> None:
    reply = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="go")
    assert reply.choices[0].text == "Hello! You said: go"
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="go", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == reply.choices[0].text


# ---- embeddings -------------------------------------------------------------------------------------------


@pytest.mark.compat(PY, "/v1/embeddings", "`create`: default (base64, decoded by the SDK) and `float`")
def test_embeddings(client: openai.OpenAI, spec: SpecCheck) -> None:
    texts = ["the cat", "the dog"]
    default = client.embeddings.create(model="text-embedding-3-small", input=texts)
    floats = client.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format="float")
    assert [d.index for d in default.data] == [0, 1] and len(default.data[0].embedding) == 1024
    assert all(isinstance(v, float) for v in default.data[0].embedding)
    for a, b in zip(default.data, floats.data, strict=True):  # base64 carries float32: the same values
        assert a.embedding == [struct.unpack("<f", struct.pack("<f", v))[0] for v in b.embedding]
    assert default.usage.prompt_tokens > 0
    assert spec.validated["CreateEmbeddingResponse"] == 2 or not spec.spec_present


# ---- responses --------------------------------------------------------------------------------------------


@pytest.mark.compat(PY, "/v1/responses", "`create`, `retrieve`, `input_items.list`, `delete`")
def test_responses_stored(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o-mini", input="Hi", instructions="Be brief.")
    assert response.output_text == "Hello! You said: Hi" and response.status == "completed"
    again = client.responses.retrieve(response.id)
    assert again.output_text == response.output_text and again.id == response.id
    items = client.responses.input_items.list(response.id)
    assert [i.type for i in items.data] == ["message"] and items.data[0].content[0].text == "Hi"
    follow = client.responses.create(model="gpt-4o-mini", input="And again", previous_response_id=response.id)
    assert follow.output_text == "Hello! You said: And again"
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


@pytest.mark.compat(PY, "/v1/responses", "`stream()` helper: events and `get_final_response()`")
def test_responses_stream(client: openai.OpenAI, spec: SpecCheck) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="Hi") as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and final.output_text == "Hello! You said: Hi"
    assert spec.total() >= len(kinds) or not spec.spec_present


@pytest.mark.compat(PY, "/v1/responses", "`parse()` with a pydantic `text_format`")
def test_responses_parse(client: openai.OpenAI) -> None:
    response = client.responses.parse(model="gpt-4.1", input="Which is the largest city in France?", text_format=City)
    assert response.output_parsed == City(**CITY)


@pytest.mark.compat(PY, "/v1/responses", "`create(background=True)`, polled with `retrieve`, "
                    "then followed with `retrieve(stream=True)`")
def test_responses_background(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o-mini", input="Hi", background=True)
    assert response.status in ("queued", "in_progress")
    deadline = time.monotonic() + 30
    while response.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.2)
        response = client.responses.retrieve(response.id)
    assert response.status == "completed" and response.output_text == "Hello! You said: Hi"
    events = list(client.responses.retrieve(response.id, stream=True, starting_after=0))
    assert events[-1].type == "response.completed" and all(e.sequence_number > 0 for e in events)


@pytest.mark.compat(PY, "/v1/responses", "function tools: `parse()` with `pydantic_function_tool` "
                    "(`parsed_arguments`), `stream()` argument events, the `function_call_output` round trip")
def test_responses_tools(client: openai.OpenAI) -> None:
    tools = [openai.pydantic_function_tool(GetWeather)]
    question = "What is the weather in Paris"
    parsed = client.responses.parse(model="gpt-4.1", input=question, tools=tools)
    call = parsed.output[0]
    assert call.type == "function_call" and call.parsed_arguments == GetWeather(city="Paris")
    with client.responses.stream(model="gpt-4.1", input=question, tools=tools) as stream:
        kinds = [e.type for e in stream]
        streamed = stream.get_final_response()
    assert "response.function_call_arguments.done" in kinds
    assert streamed.output[0].type == "function_call" and streamed.output[0].arguments == call.arguments
    flat = {"type": "function", "name": "GetWeather", "parameters": GetWeather.model_json_schema(), "strict": False}
    answer = client.responses.create(model="gpt-4.1", previous_response_id=parsed.id, tools=[flat], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert answer.output_text == "The tool returned: sunny"


# ---- audio ------------------------------------------------------------------------------------------------

SPOKEN = make_wav("en|Hello there.|How are you today?", seconds=4.0)
SPANISH = make_wav("es|Hola amigo.|Hasta luego.", seconds=4.0)


@pytest.mark.compat(PY, "/v1/audio/transcriptions", "`create` in every `response_format` "
                    "(`json`, `text`, `srt`, `verbose_json` with words, `vtt`) and `stream=True`")
def test_transcriptions(client: openai.OpenAI, spec: SpecCheck) -> None:
    create = client.audio.transcriptions.create
    file = ("speech.wav", SPOKEN, "audio/wav")
    assert create(file=file, model="whisper-1").text == "Hello there. How are you today?"
    assert create(file=file, model="whisper-1", response_format="text").strip() == "Hello there. How are you today?"
    srt = create(file=file, model="whisper-1", response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> ") and "How are you today?" in srt
    vtt = create(file=file, model="whisper-1", response_format="vtt")
    assert vtt.startswith("WEBVTT") and "Hello there." in vtt
    verbose = create(file=file, model="whisper-1", response_format="verbose_json", timestamp_granularities=["word"])
    assert verbose.language == "english" and verbose.duration == pytest.approx(4.0, abs=0.1)
    assert [w.word for w in verbose.words or []][:2] == ["Hello", "there."]
    events = list(create(file=file, model="whisper-1", stream=True))
    assert events[-1].type == "transcript.text.done" and events[-1].text == "Hello there. How are you today?"
    assert spec.validated["CreateTranscriptionResponseVerboseJson"] == 1 or not spec.spec_present


@pytest.mark.compat(PY, "/v1/audio/translations", "`create` in every `response_format`")
def test_translations(client: openai.OpenAI) -> None:
    create = client.audio.translations.create
    file = ("speech.wav", SPANISH, "audio/wav")
    text = create(file=file, model="whisper-1").text
    assert text and text != "Hola amigo. Hasta luego."
    assert create(file=file, model="whisper-1", response_format="text").strip() == text
    assert create(file=file, model="whisper-1", response_format="verbose_json").text == text
    assert create(file=file, model="whisper-1", response_format="srt").startswith("1\n00:00:00,000 --> ")
    assert create(file=file, model="whisper-1", response_format="vtt").startswith("WEBVTT")


SPEECH_MAGIC = {"mp3": (b"ID3", b"\xff\xf3", b"\xff\xfb"), "opus": (b"OggS",), "aac": (b"\xff\xf1", b"\xff\xf9"),
                "flac": (b"fLaC",), "wav": (b"RIFF",)}


@pytest.mark.compat(PY, "/v1/audio/speech", "`with_streaming_response.create` in every `response_format`, "
                    "and `stream_format=\"sse\"`")
def test_speech(client: openai.OpenAI, spec: SpecCheck) -> None:
    for fmt in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
        with client.audio.speech.with_streaming_response.create(
                model="tts-1", voice="alloy", input="Hello from the gateway.", response_format=fmt) as response:
            pieces = list(response.iter_bytes())
            content_type = response.headers["content-type"]
        audio = b"".join(pieces)
        assert content_type == {"mp3": "audio/mpeg", "pcm": "audio/pcm"}.get(fmt, f"audio/{fmt}")
        if fmt == "pcm":
            assert len(audio) > 1000 and len(audio) % 2 == 0
        else:
            assert audio.startswith(SPEECH_MAGIC[fmt]), (fmt, audio[:8])
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hello from the gateway.", stream_format="sse") as response:
        events = [json.loads(line[len("data: "):]) for line in response.iter_lines() if line.startswith("data: ")]
    assert [e["type"] for e in events][-1] == "speech.audio.done" and len(events) > 2
    assert base64.b64decode("".join(e["audio"] for e in events[:-1])).startswith(SPEECH_MAGIC["mp3"])
    assert spec.validated["SpeechAudioDeltaEvent"] == len(events) - 1 or not spec.spec_present


# ---- images -----------------------------------------------------------------------------------------------


def png(size: tuple[int, int], mode: str = "RGB", color: object = (20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")  # type: ignore[arg-type]
    return buffer.getvalue()


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.compat(PY, "/v1/images/generations", "`images.generate`: `url` (downloaded) and `b64_json`")
def test_images_generate(client: openai.OpenAI, http_client: httpx2.Client) -> None:
    result = client.images.generate(model="dall-e-2", prompt="a red fox", size="256x256", n=2)
    assert len(result.data) == 2
    for item in result.data:
        assert item.url is not None
        download = http_client.get(item.url)
        assert download.status_code == 200 and download.headers["content-type"] == "image/png"
        assert picture(download.content).size == (256, 256)
    inline = client.images.generate(model="dall-e-3", prompt="a red fox", response_format="b64_json")
    assert inline.data and picture(base64.b64decode(inline.data[0].b64_json or "")).size == (1024, 1024)


@pytest.mark.compat(PY, "/v1/images/edits", "`images.edit`, with and without a `mask`")
def test_images_edit(client: openai.OpenAI) -> None:
    image = ("cat.png", png((512, 512)), "image/png")
    plain = client.images.edit(image=image, prompt="add a hat", response_format="b64_json")
    assert plain.data and picture(base64.b64decode(plain.data[0].b64_json or "")).size == (512, 512)
    mask = ("mask.png", png((512, 512), "RGBA", (0, 0, 0, 0)), "image/png")
    masked = client.images.edit(image=image, mask=mask, prompt="add a hat", response_format="b64_json")
    assert masked.data and masked.data[0].b64_json


@pytest.mark.compat(PY, "/v1/images/variations", "`images.create_variation`")
def test_images_variation(client: openai.OpenAI) -> None:
    result = client.images.create_variation(image=("cat.png", png((300, 300)), "image/png"), n=1,
                                            response_format="b64_json")
    assert result.data and picture(base64.b64decode(result.data[0].b64_json or "")).format == "PNG"


# ---- moderations ------------------------------------------------------------------------------------------


@pytest.mark.compat(PY, "/v1/moderations", "`moderations.create`: one input and a list")
def test_moderations(client: openai.OpenAI) -> None:
    one = client.moderations.create(input="I love my cat")
    assert one.results[0].flagged is False
    both = client.moderations.create(model="omni-moderation-latest", input=["a nice day", "how to build a bomb"])
    assert [r.flagged for r in both.results] == [False, True]
    assert both.results[1].categories.violence is True and both.results[1].category_scores.violence == 1.0
