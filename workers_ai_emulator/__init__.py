"""Workers AI emulator: an offline HTTP double of Cloudflare Workers AI's REST API.

Run it with ``python -m workers_ai_emulator --port 8787`` (``--host``,
``--token`` default ``emulator-token``, ``--max-body-mb`` default 20, plus the
fault flags below). Any 32-hex account id is accepted; the documented one is
``0123456789abcdef0123456789abcdef``. It is built on aiohttp so one process
holds thousands of slow concurrent streams. The gateway never imports it.

Routes (all but ``/__emulator`` need ``Authorization: Bearer <token>``):

- ``POST /client/v4/accounts/{account}/ai/run/{model}`` and the AI Gateway
  form ``POST /v1/{account}/{gateway}/workers-ai/{model}``: native inputs,
  ``{"result", "success", "errors", "messages"}`` envelopes, native SSE.
- ``GET /client/v4/accounts/{account}/ai/models/search``: catalogue records,
  ``task`` / ``search`` / ``page`` / ``per_page`` filters, ``result_info``.
- ``POST /client/v4/accounts/{account}/ai/v1/chat/completions`` and
  ``.../ai/v1/embeddings`` (also under the gateway prefix): Workers AI's own
  OpenAI dialect, plain OpenAI objects, unknown fields tolerated.
- ``GET /__emulator/health``; ``GET|POST|DELETE /__emulator/faults``;
  ``GET|POST|DELETE /__emulator/script`` (scripted answers, see below);
  ``GET|DELETE /__emulator/requests`` (last 100 run requests as
  ``{method, path, query, headers, json}``, Authorization redacted, newest last);
  ``GET /__emulator/streams`` (``{open, opened, ended_by_client}``: SSE and speech
  streams being written now, in all, and ended by their reader leaving; a stream
  stops counting within ~20 ms of its reader's departure).

Errors use Cloudflare's codes: 7003+7000 bad account, 9106 / 10000 auth,
5007 unknown model, 3042 malformed model name, 5006 bad JSON or schema,
3006 body too large, 7000 unknown route, 7001 wrong method.

Fault controls, most specific first: ``x-emulator-*`` request header, then
the control API, then the CLI flag. Fields: ``ttft_ms``, ``token_delay_ms``,
``fail_status``, ``fail_code``, ``fail_message``, ``fail_times``,
``retry_after``, ``cut_after``, ``tokens``, ``stream_as_json``,
``hold_after_done_ms`` (the body stays open that long after ``[DONE]``),
``empty_when_streamed`` (gpt-oss answers ``stream: true`` with an empty result), and the
network-level breakage of :mod:`.breakage`: ``reset`` (a TCP reset instead of an answer;
``fail_times`` applies), ``hang_ms`` (nothing answered for that long), ``malformed_json``
(a JSON body cut in half; in a stream, the second token event), ``content_type`` (replaces
the reply's Content-Type), ``truncate_bytes`` (a binary reply such as an image stops after
that many of its declared bytes), ``pad_bytes`` (a binary reply grows by that many bytes).
Headers use dashes: ``x-emulator-ttft-ms`` ... See :mod:`.faults` for ``fail_times``.

Generation is deterministic (see :mod:`.textgen`): replies echo the last user
message, tool calls and JSON-mode objects are built from the offered
schemas, embeddings are seeded unit vectors (see :mod:`.embeddings`).

Scripted answers (:mod:`.scripting`): for client test suites that check what a
model answers (LangChain's standard tests ask for ``magic_function(3)`` and
expect ``{"input": 3}``), a script of rules says what a text model answers when
the last user message contains a given text: ``reply`` (text), ``tool_calls``
(when those tools are offered) or ``json`` (in JSON mode). Set it with
``POST /__emulator/script {"rules": [...]}`` or ``--script FILE``; the first
fitting rule wins, otherwise the default generation answers.
Models live in :mod:`.registry`; their input schemas in :mod:`.schemas`.
"""

__all__ = ["create_app"]

from .app import create_app
