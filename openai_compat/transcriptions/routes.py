"""HTTP routes of the transcription family: multipart forms in, the chosen format out."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.transcriptions.protocol import TranscriptionRequest, TranslationRequest
from openai_compat.transcriptions.serving import FORM_ROOM_BYTES, create_transcription, create_translation
from openai_compat.web.bodies import Form, form_body, parse_form
from openai_compat.web.services import services

bp = Blueprint("transcriptions", __name__)


def _form() -> Form:
    # A body declared too large is refused before it is read; a file is cut off as soon as it passes
    # the limit: either way a 413 while reading, before anything goes upstream.
    limit = services().settings.audio_max_upload_bytes
    return form_body(max_bytes=limit + FORM_ROOM_BYTES, max_file_bytes=limit, file_param="file")


@bp.post("/audio/transcriptions")
def transcriptions() -> Response:
    form = _form()
    return create_transcription(parse_form(TranscriptionRequest, form), form, services())


@bp.post("/audio/translations")
def translations() -> Response:
    form = _form()
    return create_translation(parse_form(TranslationRequest, form), form, services())
