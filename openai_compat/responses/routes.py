"""HTTP routes of the Responses family."""

from __future__ import annotations

from flask import Blueprint, Response, request

from openai_compat.responses import serving
from openai_compat.responses.protocol import CreateResponseRequest, InputItemsQuery, RetrieveQuery
from openai_compat.web.bodies import parse_body, parse_model
from openai_compat.web.services import services

bp = Blueprint("responses", __name__)


@bp.post("/responses")
def create() -> Response:
    return serving.create_response(parse_body(CreateResponseRequest), services())


@bp.get("/responses/<response_id>")
def retrieve(response_id: str) -> Response:
    query = parse_model(RetrieveQuery, request.args.to_dict())
    return serving.retrieve_response(services(), response_id, stream=query.stream, starting_after=query.starting_after)


@bp.delete("/responses/<response_id>")
def delete(response_id: str) -> Response:
    return serving.delete_response(services(), response_id)


@bp.post("/responses/<response_id>/cancel")
def cancel(response_id: str) -> Response:
    return serving.cancel_response(services(), response_id)


@bp.get("/responses/<response_id>/input_items")
def input_items(response_id: str) -> Response:
    query = parse_model(InputItemsQuery, request.args.to_dict())
    return serving.list_input_items(services(), response_id, after=query.after, before=query.before,
                                    limit=query.limit, order=query.order)
