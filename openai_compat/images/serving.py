"""Images: generate, edit or vary on Workers AI, store each image before its link is handed out, and
serve stored images back at signed links.

A request with `n` images runs `n` upstream calls (at most `IMAGES_MAX_CONCURRENCY` at once) and
succeeds whole or not at all: when one call or one store fails, the objects the others wrote are
deleted (later, if the store is down now) and the client gets the failure, never a partial list.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, jsonify

from openai_compat.core.concurrency import run_all
from openai_compat.core.logs import add_upstream_ms, note
from openai_compat.core.model_names import MODEL_HEADER
from openai_compat.errors import InvalidRequestError, MethodNotAllowedError, NotFoundError, PermissionDeniedError
from openai_compat.images.from_workers import MAX_IMAGE_BYTES, Picture, decode_result, finish, images_response
from openai_compat.images.profiles import TEXT_TO_IMAGE, image_model
from openai_compat.images.protocol import CommonFields, EditForm, GenerationRequest, VariationForm
from openai_compat.images.to_workers import Plan, generation_plan, image_plan, parse_size, wanted_content_type
from openai_compat.media.links import IMAGE_PREFIX, new_key
from openai_compat.media.pictures import Size, as_model_input, fit, inpainting_mask, open_upload
from openai_compat.storage import ObjectNotFound, StorageError, check_key, redacted
from openai_compat.web.bodies import Form, Upload, parse_form
from openai_compat.web.public_url import public_base
from openai_compat.web.replies import binary_response
from openai_compat.web.services import ModelTarget, Services, open_model


@dataclass(frozen=True)
class Made:
    picture: Picture
    key: str | None = None


# ---- generation, edits, variations -----------------------------------------------------------------


def create_generation(req: GenerationRequest, svc: Services) -> Response:
    target = open_model(svc, req.model or svc.settings.images_default_model, TEXT_TO_IMAGE)
    plan = generation_plan(req, target.resolved.requested, image_model(target.upstream_name))
    return _produce(svc, target, plan, req)


def create_edit(form: Form, svc: Services) -> Response:
    req = parse_form(EditForm, form)
    image_file, mask_file = _upload(form, "image"), form.file("mask")
    configured = svc.settings.images_inpainting_model if mask_file else svc.settings.images_edit_model
    target = _image_target(svc, req.model, configured)
    spec = image_model(target.upstream_name)
    image = open_upload(image_file.stream, "image")
    size = _input_size(req, image.width, image.height, target)
    mask = inpainting_mask(open_upload(mask_file.stream, "mask"), image, size) if mask_file else None
    plan = image_plan(req, prompt=req.prompt, spec=spec, model=target.resolved.requested, size=size,
                      image=as_model_input(image, size), mask=mask)
    return _produce(svc, target, plan, req)


def create_variation(form: Form, svc: Services) -> Response:
    req = parse_form(VariationForm, form)
    image_file = _upload(form, "image")
    target = _image_target(svc, req.model, svc.settings.images_edit_model)
    image = open_upload(image_file.stream, "image")
    size = _input_size(req, image.width, image.height, target)
    plan = image_plan(req, prompt=None, spec=image_model(target.upstream_name), model=target.resolved.requested,
                      size=size, image=as_model_input(image, size), mask=None)
    return _produce(svc, target, plan, req)


def _upload(form: Form, name: str) -> Upload:
    found = [*form.files.get(name, []), *form.files.get(f"{name}[]", [])]
    if not found:
        raise InvalidRequestError(f"Missing required parameter: '{name}' (a file).", param=name,
                                  code="missing_required_parameter")
    if len(found) > 1:
        raise InvalidRequestError(f"Workers AI's image models take one input image; {len(found)} were sent.",
                                  param=name, code="unsupported_value")
    return found[0]


def _image_target(svc: Services, requested: str | None, configured: str) -> ModelTarget:
    """A Workers AI model named by the client must take an input image; OpenAI's names (dall-e-2,
    gpt-image-1) mean "the configured edit model", since none of their aliases needs to be one."""
    if requested and requested.startswith("@"):
        target = open_model(svc, requested, TEXT_TO_IMAGE)
        if not image_model(target.upstream_name).image_input:
            raise InvalidRequestError(
                f"The model `{requested}` cannot edit images; use {configured} or another img2img model.",
                param="model", code="invalid_model")
        return target
    target = open_model(svc, configured, TEXT_TO_IMAGE)
    note(model=requested or configured)
    return target


def _input_size(req: CommonFields, width: int, height: int, target: ModelTarget) -> Size:
    spec = image_model(target.upstream_name)
    if req.size not in (None, "auto"):
        size = parse_size(req.size, spec, target.resolved.requested)
        if size is not None:
            return size
    longest = max(spec.default_size or spec.fixed_size)
    return fit(width, height, longest=longest, smallest=spec.min_side, largest=spec.max_side,
               multiple=spec.multiple)


def _produce(svc: Services, target: ModelTarget, plan: Plan, req: CommonFields) -> Response:
    as_links = (req.response_format or "url") == "url"
    wanted = wanted_content_type(req)
    note(images=req.n, response_format=req.response_format or "url")

    def make(index: int) -> Callable[[], Made]:
        def run() -> Made:
            reply = target.run(body=plan.body(index))
            add_upstream_ms(reply.elapsed_ms)
            data = reply.read_body(MAX_IMAGE_BYTES) if reply.chunks is not None else decode_result(reply.result)
            picture = finish(data, wanted, req.output_compression)
            return Made(picture, _store(svc, picture, target) if as_links else None)

        return run

    made = run_all([make(i) for i in range(req.n)], limit=svc.settings.images_max_concurrency,
                   discard=lambda m: svc.housekeeper.discard([m.key]) if m.key else None)
    try:
        items = [{"url": _link(svc, m.key)} if m.key else
                 {"b64_json": base64.b64encode(m.picture.data).decode("ascii")} for m in made]
    except StorageError:
        svc.housekeeper.discard([m.key for m in made if m.key])
        raise
    target.record(plan.usage(len(made), made[0].picture.size))
    body = images_response(int(time.time()), items, made[0].picture.content_type)
    response = jsonify(body)
    response.headers[MODEL_HEADER] = target.upstream_name
    return response


def _store(svc: Services, picture: Picture, target: ModelTarget) -> str:
    key = new_key(picture.extension)
    try:
        svc.storage.put(key, picture.data, content_type=picture.content_type,
                        metadata={"model": target.upstream_name})
    except StorageError:
        svc.housekeeper.discard([key])  # the write may have landed before the store failed
        raise
    return key


def _link(svc: Services, key: str) -> str:
    settings = svc.settings
    if settings.image_url_mode == "public":
        return f"{settings.image_public_base_url}/{key}"
    if settings.image_url_mode == "presigned":
        url = svc.storage.presigned_url(key, settings.image_url_ttl_seconds)
        if url is None:
            raise StorageError("The store cannot make presigned links; set IMAGE_URL_MODE=signed.")
        return url
    query = svc.link_signer.query(key, settings.image_url_ttl_seconds)
    return f"{public_base(settings)}/v1/images/{key.removeprefix(IMAGE_PREFIX)}?{query}"


# ---- retrieval -------------------------------------------------------------------------------------


def serve_image(path: str, expires: str | None, signature: str | None, if_none_match: str | None,
                svc: Services) -> Response:
    """A stored image at its signed link: no API key (the signature is the credential), streamed in
    chunks, never read whole into memory."""
    if path in ("generations", "edits", "variations"):
        raise MethodNotAllowedError(f"/v1/images/{path} takes POST.")
    key = f"{IMAGE_PREFIX}{path}"
    try:
        check_key(key)
    except ValueError:
        raise InvalidRequestError("That is not an image link of this gateway.", code="invalid_image_key") from None
    note(path=f"/v1/{redacted(key)}")  # the access log shows no full key and no signature
    problem = svc.link_signer.verify(key, expires, signature)
    if problem == "expired":
        raise PermissionDeniedError("This image link has expired: image links work for "
                                    f"{svc.settings.image_url_ttl_seconds} seconds.", code="link_expired")
    if problem is not None:
        raise PermissionDeniedError("This image link is not valid (its signature does not match).",
                                    code="invalid_signature")
    remaining = max(0, int(expires or 0) - int(time.time()))
    headers = {"Cache-Control": f"private, max-age={remaining}, immutable"}
    if if_none_match:
        info = svc.storage.head(key)
        if info is None:
            raise _missing()
        if f'"{info.etag}"' in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]:
            return Response(status=304, headers={**headers, "ETag": f'"{info.etag}"'})
    try:
        info, chunks = svc.storage.open(key)
    except ObjectNotFound:
        raise _missing() from None
    return binary_response(chunks, content_type=info.content_type, content_length=info.size,
                           on_close=getattr(chunks, "close", None),
                           headers={**headers, "ETag": f'"{info.etag}"'})


def _missing() -> NotFoundError:
    return NotFoundError("The image does not exist: it was removed, or its retention period is over.",
                         code="image_not_found")
