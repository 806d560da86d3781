"""A transcription or translation request -> the upstream calls: the speech model's input in its own
wire form, and m2m100 inputs for segment texts. Pure mappings: the file is handed in open and is
only wrapped (read later, as the body is sent), never read here.

Everything a request can get wrong is refused here, before anything goes upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from openai_compat.errors import InvalidRequestError, PayloadTooLargeError
from openai_compat.sound import containers, languages
from openai_compat.sound.containers import Container
from openai_compat.transcriptions.profiles import SpeechModel
from openai_compat.upstream import Body, json_with_file_body, raw_body


@dataclass(frozen=True)
class UpstreamCall:
    body: Body
    query: dict[str, str] | None = None


def _formats() -> str:
    return str(list(containers.SUPPORTED))


def check_audio(head: bytes, size: int, max_bytes: int) -> Container:
    """The upload's container, or the error OpenAI gives for it (413 over the size limit)."""
    if size > max_bytes:
        raise PayloadTooLargeError(
            f"Maximum content size limit ({max_bytes}) exceeded ({size} bytes read).", param="file"
        )
    if size == 0:
        raise InvalidRequestError("The audio file is empty.", param="file", code="invalid_value")
    found = containers.sniff(head)
    if found is None:
        raise InvalidRequestError(
            f"Invalid file format: the file is not audio the gateway recognises. Supported formats: {_formats()}",
            param="file", code="invalid_value",
        )
    if not found.supported:
        raise InvalidRequestError(
            f"Invalid file format: {found.name} audio is not accepted. Supported formats: {_formats()}",
            param="file", code="invalid_value",
        )
    return found


def check_language(language: str | None, model: SpeechModel, requested: str) -> str | None:
    """The ISO 639-1 code a client asked for, checked: OpenAI takes codes such as `en`."""
    if language is None or not language.strip():
        return None
    code = languages.code_of(language)
    if code is None:
        raise InvalidRequestError(
            f"Invalid language {language!r}: use an ISO-639-1 code such as 'en', 'es' or 'fr'.",
            param="language", code="invalid_value",
        )
    if model.english_only and code != "en":
        raise InvalidRequestError(
            f"The model `{requested}` transcribes English only; language {language!r} cannot be used with it.",
            param="language", code="unsupported_value",
        )
    return code


def recognition_call(
    model: SpeechModel, audio: IO[bytes], container: Container, *, translate: bool, language: str | None,
    prompt: str | None,
) -> UpstreamCall:
    """The speech model's input. Only `translate` uses the model's own task; a model without one is
    asked to transcribe and the gateway translates afterwards."""
    if model.form == "base64_json":
        fields: dict[str, Any] = {"task": "translate" if translate and model.translates else "transcribe"}
        if language and model.language_hint:
            fields["language"] = language
        if prompt and model.prompt:
            fields["initial_prompt"] = prompt
        return UpstreamCall(json_with_file_body(fields, "audio", audio, "base64"))
    if model.form == "byte_array":
        return UpstreamCall(json_with_file_body({}, "audio", audio, "byte_array"))
    query = None
    if model.options_in_query:
        query = {"punctuate": "true", "smart_format": "true"}
        if language and model.language_hint:
            query["language"] = language
        else:
            query["detect_language"] = "true"
    return UpstreamCall(raw_body(audio, container.content_type), query)


def needs_translation(model: SpeechModel, spoken: str | None) -> bool:
    """Whether the gateway must translate the transcript into English itself."""
    if model.translates or model.english_only:
        return False
    return spoken != "en"


def translation_input(text: str, source: str) -> dict[str, str]:
    return {"text": text, "source_lang": source, "target_lang": "en"}


def check_translatable(model: SpeechModel, requested: str) -> None:
    """A model with no translate task and no language detection cannot say what to translate from."""
    if model.translates or model.english_only or model.detects_language:
        return
    raise InvalidRequestError(
        f"The model `{requested}` cannot translate: it has no translate task and does not report the spoken "
        "language. Use whisper-1 (@cf/openai/whisper-large-v3-turbo) or @cf/deepgram/nova-3.",
        param="model", code="unsupported_value",
    )
