"""The Flask-facing layer: the app factory, authentication, CORS, error handlers, the request log,
request-body readers, replies (JSON, SSE, binary streams), health, and the per-process services."""
