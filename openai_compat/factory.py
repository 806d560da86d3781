"""Builds the Flask application: services, cross-cutting hooks, and one blueprint per endpoint family."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask

from openai_compat import health
from openai_compat.auth import init_auth
from openai_compat.chat.routes import bp as chat_bp
from openai_compat.completions.routes import bp as completions_bp
from openai_compat.cors import init_cors
from openai_compat.embeddings.routes import bp as embeddings_bp
from openai_compat.error_handlers import register_error_handlers
from openai_compat.image_input import ImageFetcher
from openai_compat.jsonio import FlaskJSON
from openai_compat.models.catalogue import ModelCatalogue
from openai_compat.models.routes import bp as models_bp
from openai_compat.request_log import configure_logging, init_request_log
from openai_compat.services import EXTENSION_KEY, Services
from openai_compat.settings import Settings, load_settings
from openai_compat.upstream import WorkersAIClient

log = logging.getLogger("openai_compat")

FAMILIES: tuple[Blueprint, ...] = (models_bp, chat_bp, completions_bp, embeddings_bp)


def build_app(settings: Settings | None = None) -> Flask:
    """Application factory; raises SettingsError (one line) when configuration is bad."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    if settings.allow_unauthenticated and not settings.gateway_api_keys:
        log.warning('{"event":"auth_disabled","detail":"ALLOW_UNAUTHENTICATED is set: anyone can call this gateway"}')

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.url_map.strict_slashes = False
    app.json = FlaskJSON(app)

    upstream = WorkersAIClient(settings)
    catalogue = ModelCatalogue(upstream.search_models, settings.model_aliases, settings.models_cache_ttl_seconds)
    fetcher = ImageFetcher(max_bytes=settings.image_max_bytes, timeout_seconds=settings.image_fetch_timeout_seconds)
    app.extensions[EXTENSION_KEY] = Services(
        settings=settings, upstream=upstream, catalogue=catalogue, image_fetcher=fetcher
    )

    init_request_log(app)
    init_cors(app, settings.cors_allowed_origins)
    init_auth(app, settings.api_keys, enabled=bool(settings.gateway_api_keys))
    register_error_handlers(app)

    app.register_blueprint(health.bp)
    for family in FAMILIES:
        app.register_blueprint(family, url_prefix="/v1")
        app.register_blueprint(family, url_prefix="", name=f"{family.name}_unversioned")
    return app
