"""Speech: pick the speaker and encoding, run the voice, and pass its audio to the client chunk by
chunk as it arrives (raw audio, or `speech.audio.delta` events with `stream_format: sse`)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response

from openai_compat.core.logs import add_upstream_ms, note
from openai_compat.core.metering import Usage
from openai_compat.core.model_names import MODEL_HEADER, unsupported_model
from openai_compat.core.sse import data_event, named_event
from openai_compat.errors import APIError
from openai_compat.speech import from_workers, to_workers
from openai_compat.speech.profiles import CONTENT_TYPES, TTS, known_models, voice_model
from openai_compat.speech.protocol import SpeechRequest
from openai_compat.web.replies import binary_response, sse_response
from openai_compat.web.services import Services, open_model


def _events(chunks: Iterator[bytes], text: str) -> Iterator[bytes]:
    """Deltas as the audio arrives; an upstream that breaks off ends the stream with an `error`
    event (no `speech.audio.done`), which the SDKs raise."""
    try:
        for chunk in chunks:
            if chunk:
                yield named_event("speech.audio.delta", from_workers.delta_event(chunk))
    except APIError as exc:
        yield data_event(exc.body())
        return
    yield named_event("speech.audio.done", from_workers.done_event(text))


def create_speech(req: SpeechRequest, svc: Services) -> Response:
    target = open_model(svc, req.model, TTS)
    model = voice_model(target.upstream_name)
    if model is None:
        raise unsupported_model(req.model, "a voice the gateway can speak with", known_models(), "tts-1")
    mapping = svc.settings.speech_voices.get(model.name, {})
    speaker = to_workers.speaker_for(req.voice, model, mapping, req.model)
    encoding = to_workers.check_format(req.response_format, model, req.model)
    to_workers.check_speed(req.speed, req.model)
    note(voice=speaker, audio_format=req.response_format)
    reply = target.run(to_workers.speech_input(model, req.input, speaker, encoding))
    add_upstream_ms(reply.elapsed_ms)
    if reply.chunks is not None:
        try:
            from_workers.check_audio_type(reply.content_type)
        except APIError:
            reply.close()
            raise
    target.record(Usage(characters=len(req.input)))
    if reply.chunks is not None:
        chunks, length, close = reply.chunks, reply.content_length, reply.close
    else:
        audio = from_workers.json_audio(reply.result)
        chunks, length, close = from_workers.pieces(audio), len(audio), reply.close
    headers = {MODEL_HEADER: target.upstream_name}
    if req.stream_format == "sse":
        return sse_response(_events(chunks, req.input), heartbeat_seconds=svc.settings.sse_heartbeat_seconds,
                            on_close=close, headers=headers)
    return binary_response(chunks, content_type=CONTENT_TYPES[req.response_format], content_length=length,
                           on_close=close, headers=headers)
