"""Transcriptions and translations: check the upload, run the speech model on it straight from its
temporary file, translate segment by segment where the model cannot, report usage, reply in the
format asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from flask import Response, jsonify

from openai_compat.core.concurrency import run_all
from openai_compat.core.logs import add_upstream_ms, note
from openai_compat.core.metering import Usage, estimate_tokens
from openai_compat.core.model_names import MODEL_HEADER, resolve_model, unsupported_model
from openai_compat.core.sse import named_event
from openai_compat.errors import InvalidRequestError, UpstreamError
from openai_compat.sound import containers
from openai_compat.sound.containers import Container
from openai_compat.transcriptions import from_workers, to_workers
from openai_compat.transcriptions.from_workers import Transcript
from openai_compat.transcriptions.profiles import ASR, TRANSLATOR, SpeechModel, known_models, speech_model
from openai_compat.transcriptions.protocol import TranscriptionRequest, TranslationRequest
from openai_compat.web.bodies import Form, Upload
from openai_compat.web.replies import sse_response
from openai_compat.web.services import ModelTarget, Services, open_model

FORM_ROOM_BYTES = 1024 * 1024
"""What a form may hold besides the audio file (its other fields, the part headers)."""


def _upload(form: Form, svc: Services) -> tuple[Upload, Container]:
    upload = form.file("file")
    if upload is None:
        raise InvalidRequestError(
            "Missing required parameter: 'file' (the audio file, sent as a multipart file part).",
            param="file", code="missing_required_parameter",
        )
    head = containers.read_head(upload.stream)
    return upload, to_workers.check_audio(head, upload.size, svc.settings.audio_max_upload_bytes)


def _speech_model(target: ModelTarget, requested: str) -> SpeechModel:
    model = speech_model(target.upstream_name)
    if model is None:
        raise unsupported_model(requested, "a speech recognition model the gateway can send audio to",
                                known_models(), "whisper-1")
    return model


def _recognise(
    svc: Services, req: TranslationRequest, form: Form, *, translate: bool, language: str | None
) -> tuple[ModelTarget, SpeechModel, Transcript]:
    upload, container = _upload(form, svc)
    target = open_model(svc, req.model, ASR)
    model = _speech_model(target, req.model)
    code = to_workers.check_language(language, model, req.model)
    if translate:
        to_workers.check_translatable(model, req.model)
    header_duration = containers.duration_seconds(upload.stream, container)
    note(audio_format=container.name, audio_bytes=upload.size)
    call = to_workers.recognition_call(model, upload.stream, container, translate=translate, language=code,
                                       prompt=req.prompt)
    reply = target.run(body=call.body, query=call.query)
    add_upstream_ms(reply.elapsed_ms)
    transcript = from_workers.read_transcript(model, reply.result, header_duration)
    if transcript.language is None:  # whisper reports none: the client's hint, or English for the English model
        transcript = replace(transcript, language=code or ("en" if model.english_only else None))
    return target, model, transcript


def _translate_call(translator: ModelTarget, text: str, source: str) -> Callable[[], str]:
    def run() -> str:
        if not text.strip():
            return text
        reply = translator.run(to_workers.translation_input(text, source))
        add_upstream_ms(reply.elapsed_ms)
        translated = reply.result.get("translated_text") if isinstance(reply.result, dict) else None
        if not isinstance(translated, str):
            raise UpstreamError("Workers AI's m2m100 result holds no translated_text.")
        return translated

    return run


def _into_english(svc: Services, transcript: Transcript) -> Transcript:
    """Each segment translated on its own (at most AUDIO_TRANSLATION_MAX_CONCURRENCY calls in flight),
    so every translated segment keeps its timing."""
    if transcript.language is None:
        raise UpstreamError("Workers AI did not report the spoken language, so the transcript cannot be translated.")
    translator = ModelTarget(resolve_model(TRANSLATOR, svc.settings.model_aliases), svc)
    texts = [segment.text for segment in transcript.segments]
    note(translation_model=TRANSLATOR, translated_segments=len(texts))
    translated = run_all([_translate_call(translator, text, transcript.language) for text in texts],
                         limit=svc.settings.audio_translation_max_concurrency)
    # m2m100 is priced per token and reports none: estimated from the text it read and wrote.
    translator.record(Usage(prompt_tokens=sum(estimate_tokens(t) for t in texts),
                            completion_tokens=sum(estimate_tokens(t) for t in translated),
                            characters=sum(len(t) for t in texts), estimated=True))
    return from_workers.with_texts(transcript, translated)


def _reply(transcript: Transcript, response_format: str, target: ModelTarget, *, task: str, segments: bool,
           words: bool) -> Response:
    if response_format == "json":
        response = jsonify(from_workers.json_body(transcript))
    elif response_format == "verbose_json":
        response = jsonify(from_workers.verbose_body(transcript, task=task, segments=segments, words=words))
    else:
        body, content_type = from_workers.text_body(transcript, response_format)
        response = Response(body, content_type=content_type)
    response.headers[MODEL_HEADER] = target.upstream_name
    return response


def _events(transcript: Transcript) -> Iterator[bytes]:
    for event in from_workers.stream_events(transcript):
        yield named_event(event["type"], event)


def create_transcription(req: TranscriptionRequest, form: Form, svc: Services) -> Response:
    granularities = req.timestamp_granularities
    if granularities and req.response_format != "verbose_json":
        raise InvalidRequestError(
            "timestamp_granularities needs response_format 'verbose_json'.",
            param="timestamp_granularities", code="invalid_value",
        )
    target, _, transcript = _recognise(svc, req, form, translate=False, language=req.language)
    target.record(Usage(audio_seconds=transcript.duration))
    if req.stream:
        response = sse_response(_events(transcript), heartbeat_seconds=svc.settings.sse_heartbeat_seconds,
                                on_close=lambda: None, headers={MODEL_HEADER: target.upstream_name})
        return response
    chosen = granularities or ["segment"]
    return _reply(transcript, req.response_format, target, task="transcribe", segments="segment" in chosen,
                  words="word" in chosen)


def create_translation(req: TranslationRequest, form: Form, svc: Services) -> Response:
    target, model, transcript = _recognise(svc, req, form, translate=True, language=None)
    if to_workers.needs_translation(model, transcript.language):
        transcript = _into_english(svc, transcript)
    target.record(Usage(audio_seconds=transcript.duration))
    return _reply(transcript, req.response_format, target, task="translate", segments=True, words=False)
