"""Responses: create (answered whole, streamed, or run in the background), retrieve, follow, cancel,
delete and list input items, all through the stored record the storage layer shares between instances.

A create reads as a straight line: validate, resolve the model, load the conversation it continues,
fetch images, map, call, map back, store, answer. The stored object is written before the response
(or `response.completed`) goes out: a storage failure is a 502, never an id that cannot be retrieved.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Response, jsonify

from openai_compat.core.logs import log_event, note
from openai_compat.core.metering import Usage
from openai_compat.core.model_names import MODEL_HEADER
from openai_compat.core.sse import QUIET, Quiet, named_event, shutdown_error
from openai_compat.errors import APIError, InvalidRequestError, NotFoundError
from openai_compat.responses import from_workers as out
from openai_compat.responses.protocol import CreateResponseRequest
from openai_compat.responses.store import LEASE_SECONDS, Record, ResponseStore
from openai_compat.responses.to_workers import check_images, check_request, image_urls, input_items, new_id
from openai_compat.responses.to_workers import text_request as map_request
from openai_compat.storage import StorageError
from openai_compat.textgen.choices import ChoiceEnd, GenerationOptions, choice_stream, generation_options
from openai_compat.textgen.profiles import TEXT_GENERATION, profile_for
from openai_compat.textgen.serving import close_all, open_replies
from openai_compat.textgen.to_workers import workers_input
from openai_compat.upstream import UpstreamReply
from openai_compat.web.replies import sse_response
from openai_compat.web.services import ModelTarget, Services, open_model

log = logging.getLogger("openai_compat.responses")
FLUSH_SECONDS = 0.25
"""How often a background run writes its new events (and checks for a cancel) while it generates."""
STORE_RETRY_SECONDS = (0.5, 5.0)
"""First and longest pause between tries to store the outcome of a run the store failed under."""
STORE_GIVE_UP_SECONDS = 600.0
"""After this, a run the store failed under is left to its lease, which makes readers see `failed`."""


def not_found(response_id: str) -> NotFoundError:
    return NotFoundError(f"No response found with id '{response_id}'.", param="response_id", code="not_found")


@dataclass
class Run:
    """One response being generated, from its opened upstream reply to its stored end."""

    target: ModelTarget
    store: ResponseStore
    record: Record
    stored: bool
    reply: UpstreamReply
    options: GenerationOptions
    lease_seconds: float = LEASE_SECONDS
    writer: out.EventWriter = field(init=False)
    cancelled: threading.Event = field(default_factory=threading.Event)
    _saving: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.writer = out.EventWriter(self.record.response)

    @property
    def response(self) -> dict[str, Any]:
        return self.record.response

    def generate(self) -> Iterator[dict[str, Any] | Quiet]:
        """Every event after the opening ones, ending with the terminal lifecycle event; the record
        is stored before that event is produced. Failures are raised."""
        usage: Usage | None = None
        for item in choice_stream(self.reply, self.options):
            if item is QUIET:
                yield QUIET
            elif isinstance(item, ChoiceEnd):
                usage = item.usage
                yield from self.writer.finish(item.finish_reason)
                out.finished(self.response, self.writer.output, (item.finish_reason, usage))
            else:
                yield from self.writer.piece(item)
        self.target.record(usage or Usage())
        self.save(terminal=True)
        yield self.writer.lifecycle(f"response.{self.response['status']}")

    def events(self) -> Iterator[dict[str, Any] | Quiet]:
        """`generate`, with a failure after the first byte reported in the stream (an `error` event and
        `response.failed`), never as a made-up completion."""
        try:
            yield from self.generate()
        except APIError as exc:
            if self.cancelled.is_set():
                return  # the cancel closed the reply: not a failure
            yield from self.fail(exc.code, exc.message, exc.error_type)
        except Exception:
            log.exception("response failed")
            yield from self.fail("server_error", "The response failed inside the gateway.", "server_error")

    def fail(self, code: str | None, message: str, error_type: str) -> Iterator[dict[str, Any]]:
        self.reply.close()
        out.failed(self.response, out.error_code(code), message, self.writer.output)
        yield out.error_event(self.writer, code, message, error_type)
        with contextlib.suppress(APIError):  # the stream says it failed; a stored record's lease runs out
            self.save(terminal=True)
        yield self.writer.lifecycle("response.failed")

    def save(self, *, terminal: bool) -> None:
        """Store the record: a terminal one once; a running one with its lease renewed, unless the run
        has already ended (the lease keeper and the run itself both save)."""
        if not self.stored:
            return
        with self._saving:
            if not terminal and out.is_terminal(self.response):
                return
            self.record.lease_until = None if terminal else time.time() + self.lease_seconds
            self.store.save(self.record)


def _shutdown_events(run: Run) -> bytes:
    """The end of a stream the worker's shutdown cut: `error` and `response.failed`, in sequence."""
    error = shutdown_error()
    return b"".join(named_event(e["type"], e) for e in run.fail(error.code, error.message, error.error_type))


def _previous(store: ResponseStore, response_id: str | None) -> Record | None:
    if response_id is None:
        return None
    previous = store.load(response_id)
    if previous is None:
        # A 400, as OpenAI answers it (a 404 is for the resource the URL names): clients such as Codex recover
        # from this status and code by sending the whole conversation again.
        raise InvalidRequestError(f"Previous response with id '{response_id}' not found.",
                                  param="previous_response_id", code="previous_response_not_found")
    if not out.is_terminal(previous.current()):
        raise InvalidRequestError(f"Previous response '{response_id}' has not finished yet.",
                                  param="previous_response_id")
    return previous


def create_response(req: CreateResponseRequest, svc: Services) -> Response:
    target = open_model(svc, req.model, TEXT_GENERATION)
    profile = profile_for(target.upstream_name)
    check_request(req, profile)
    store = ResponseStore(svc.storage)
    previous = _previous(store, req.previous_response_id)
    items = input_items(req)
    context = previous.conversation() if previous is not None else []
    urls = image_urls([*context, *items])
    check_images(req, urls, profile)
    images = {url: svc.fetcher.load(url, param) for param, url in urls}
    streamed, background = bool(req.stream), bool(req.background)
    note(stream=streamed, background=background)
    request = map_request(req, [*context, *items], images, stream=streamed or background,
                          max_tokens=req.max_output_tokens or svc.settings.default_max_tokens)
    response = out.response_object(req, new_id("resp"), int(time.time()), previous_response_id=previous and
                                   previous.response["id"], status="queued" if background else "in_progress")
    record = Record(response, items, context)
    headers = {MODEL_HEADER: target.upstream_name}
    if background:
        return _start_background(svc, target, store, record, request, profile, streamed, headers)
    replies = open_replies(target, [workers_input(request, profile, prefer_responses=True)])
    run = Run(target, store, record, req.store is not False, replies[0], generation_options(request, profile))
    if not streamed:
        for _ in run.generate():
            pass
        reply = jsonify(response)
        reply.headers.update(headers)
        return reply

    def stream() -> Iterator[bytes]:
        opening = (run.writer.lifecycle("response.created"), run.writer.lifecycle("response.in_progress"))
        for event in itertools.chain(opening, run.events()):
            yield QUIET if event is QUIET else named_event(event["type"], event)  # type: ignore[index]

    return sse_response(stream(), heartbeat_seconds=svc.settings.sse_heartbeat_seconds, on_close=close_all(replies),
                        headers=headers, shutdown_event=lambda: _shutdown_events(run), quiet_reported=True)


# ---- background runs -----------------------------------------------------------------------------


class _Batcher:
    """Collects a background run's events: hands each to a local follower at once, and writes them to
    the store in batches, so followers on any instance can read them."""

    def __init__(self, run: Run, local: queue.Queue[dict[str, Any] | None] | None) -> None:
        self.run = run
        self.local = local
        self.pending: list[dict[str, Any]] = []
        self.flushed_at = time.monotonic()

    def add(self, event: dict[str, Any]) -> None:
        self.pending.append(event)
        if self.local is not None:
            self.local.put(event)
        if time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.run.store.append_events(self.run.response["id"], self.pending)
        self.pending = []
        self.flushed_at = time.monotonic()


def _keep_lease(run: Run, done: threading.Event) -> None:
    """While the run lasts (the wait for a slow first token included), renew its lease and look for a
    cancel request, which closes the upstream reply at once."""
    while not done.wait(min(1.0, run.lease_seconds / 3)):
        try:
            run.save(terminal=False)
            if run.store.cancel_requested(run.response["id"]):
                run.cancelled.set()
                run.reply.close()
                return
        except APIError as exc:
            log_event(log, "background_lease_failed", level=logging.WARNING, error=exc.code)


def _cancel(run: Run) -> None:
    run.response["status"] = "cancelled"
    run.response["output"] = run.writer.output
    run.save(terminal=True)


def _run_in_background(run: Run, payload: dict[str, Any], local: queue.Queue[dict[str, Any] | None] | None) -> None:
    batcher = _Batcher(run, local)
    done = threading.Event()
    keeper = threading.Thread(target=_keep_lease, args=(run, done), name="response-lease", daemon=True)
    keeper.start()
    try:
        batcher.add(run.writer.lifecycle("response.created"))
        try:
            replies = open_replies(run.target, [payload])
        except APIError as exc:
            for event in run.fail(exc.code, exc.message, exc.error_type):
                batcher.add(event)
            return
        run.reply = replies[0]
        if run.cancelled.is_set():  # cancelled while the model was being reached
            run.reply.close()
            _cancel(run)
            return
        run.response["status"] = "in_progress"
        batcher.add(run.writer.lifecycle("response.in_progress"))
        events = run.events()
        try:
            for event in events:
                if run.cancelled.is_set():
                    break
                if event is not QUIET:  # a follower's stream has its own heartbeat
                    batcher.add(event)  # type: ignore[arg-type]
        finally:
            events.close()
        if run.cancelled.is_set():
            _cancel(run)
    except StorageError as exc:
        done.set()  # the lease keeper stops: the run is over, only its outcome is left to store
        _store_failed(run, batcher, exc)
    except Exception:
        log.exception("background response failed")
    finally:
        done.set()
        try:
            batcher.flush()
        except APIError as exc:
            log_event(log, "background_store_failed", level=logging.WARNING, error=exc.code)
        if batcher.local is not None:
            batcher.local.put(None)


def _store_failed(run: Run, batcher: _Batcher, exc: StorageError) -> None:
    """The store failed under a running background response: it ends as `failed` (its upstream call
    closed), and its outcome is stored as soon as the store takes writes again, so it reads `failed`
    with the real reason rather than `in_progress` until its lease runs out."""
    log_event(log, "background_store_failed", level=logging.WARNING, error=exc.code)
    if not out.is_terminal(run.response):
        for event in run.fail(exc.code, f"The response could not be stored: {exc.message}", exc.error_type):
            batcher.pending.append(event)
            if batcher.local is not None:
                batcher.local.put(event)
    if batcher.local is not None:  # the client streaming this run has its ending now, not when the store is back
        batcher.local.put(None)
        batcher.local = None
    run.reply.close()
    pause, deadline = STORE_RETRY_SECONDS[0], time.monotonic() + STORE_GIVE_UP_SECONDS
    while time.monotonic() < deadline:
        try:
            run.save(terminal=True)
            batcher.flush()
            log_event(log, "background_outcome_stored", status=run.response["status"])
            return
        except APIError:
            time.sleep(pause)
            pause = min(STORE_RETRY_SECONDS[1], pause * 2)


def _start_background(svc: Services, target: ModelTarget, store: ResponseStore, record: Record, request: Any,
                      profile: Any, streamed: bool, headers: dict[str, str]) -> Response:
    """Store the queued response, start the run on its own greenlet (thread), and answer at once: with
    the queued response, or with a stream of the run's events as they happen."""
    run = Run(target, store, record, True, UpstreamReply("", 0.0), generation_options(request, profile),
              lease_seconds=svc.settings.responses_lease_seconds)
    run.save(terminal=False)  # the id exists (and can be polled) before anyone is told it
    local: queue.Queue[dict[str, Any] | None] | None = queue.Queue() if streamed else None
    payload = workers_input(request, profile, prefer_responses=True)
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(_run_in_background, run, payload, local),
                     name=f"response-{record.response['id']}", daemon=True).start()
    if local is None:
        reply = jsonify(record.response)
        reply.headers.update(headers)
        return reply

    def stream() -> Iterator[bytes]:
        while (event := local.get()) is not None:
            yield named_event(event["type"], event)

    # A client that hangs up leaves the run going: it is stored, and can be followed or polled.
    return sse_response(stream(), heartbeat_seconds=svc.settings.sse_heartbeat_seconds, on_close=lambda: None,
                        headers=headers)


# ---- reading stored responses --------------------------------------------------------------------


def _load(store: ResponseStore, response_id: str) -> Record:
    record = store.load(response_id)
    if record is None:
        raise not_found(response_id)
    return record


def retrieve_response(svc: Services, response_id: str, *, stream: bool, starting_after: int | None) -> Response:
    store = ResponseStore(svc.storage)
    record = _load(store, response_id)
    if not stream:
        return jsonify(record.current())
    if not record.response.get("background"):
        raise InvalidRequestError("Only background responses can be streamed after they were created.",
                                  param="stream")
    events = store.follow(response_id, -1 if starting_after is None else starting_after)
    return sse_response((named_event(e["type"], e) for e in events),
                        heartbeat_seconds=svc.settings.sse_heartbeat_seconds, on_close=lambda: None)


def cancel_response(svc: Services, response_id: str) -> Response:
    store = ResponseStore(svc.storage)
    record = _load(store, response_id)
    if not record.response.get("background"):
        raise InvalidRequestError("Only responses created with background=true can be cancelled.",
                                  param="response_id")
    if not out.is_terminal(record.current()):
        store.request_cancel(response_id)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            record = _load(store, response_id)
            if out.is_terminal(record.current()):
                break
            time.sleep(0.1)
        else:  # the run did not answer in time: it will stop at its next flush
            record.response["status"] = "cancelled"
    return jsonify(record.current())


def delete_response(svc: Services, response_id: str) -> Response:
    if not ResponseStore(svc.storage).delete(response_id):
        raise not_found(response_id)
    return jsonify({"id": response_id, "object": "response", "deleted": True})


def list_input_items(svc: Services, response_id: str, *, after: str | None, before: str | None, limit: int,
                     order: str) -> Response:
    record = _load(ResponseStore(svc.storage), response_id)
    return jsonify(out.items_page(record.input_items, after=after, before=before, limit=limit, order=order))
