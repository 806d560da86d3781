"""Builds the Flask application: services, cross-cutting hooks, and one blueprint per endpoint family."""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, Flask

from openai_compat.chat.routes import bp as chat_bp
from openai_compat.completions.routes import bp as completions_bp
from openai_compat.console.routes import bp as console_bp
from openai_compat.core import metrics
from openai_compat.core.catalogue import ModelCatalogue
from openai_compat.core.logs import configure_logging, log_event
from openai_compat.core.metering import Meter
from openai_compat.core.pricing import PriceBook
from openai_compat.embeddings.routes import bp as embeddings_bp
from openai_compat.images.routes import bp as images_bp
from openai_compat.media.links import IMAGE_PREFIX, LinkSigner
from openai_compat.models.routes import bp as models_bp
from openai_compat.moderations.routes import bp as moderations_bp
from openai_compat.net.fetcher import GuardedFetcher
from openai_compat.quotas import open_quotas
from openai_compat.rerank.routes import bp as rerank_bp
from openai_compat.responses.routes import bp as responses_bp
from openai_compat.settings import Settings, SettingsError, load_settings
from openai_compat.speech.routes import bp as speech_bp
from openai_compat.storage import ObjectStore, StorageError, open_store
from openai_compat.storage.housekeeping import Housekeeper
from openai_compat.transcriptions.routes import bp as transcriptions_bp
from openai_compat.upstream import WorkersAIClient
from openai_compat.web import admin, health, openapi
from openai_compat.web.auth import init_auth, key_policies, key_ring
from openai_compat.web.connections import init_connections
from openai_compat.web.cors import init_cors
from openai_compat.web.error_handlers import register_error_handlers
from openai_compat.web.json_provider import FlaskJSON
from openai_compat.web.observability import init_observability
from openai_compat.web.request_log import init_request_log, log_usage
from openai_compat.web.retries import init_retry_policy
from openai_compat.web.services import EXTENSION_KEY, Services
from openai_compat.web.slow_clients import init_body_deadline

log = logging.getLogger("openai_compat")

FAMILIES: tuple[Blueprint, ...] = (
    models_bp, chat_bp, completions_bp, embeddings_bp, responses_bp, moderations_bp, rerank_bp, images_bp,
    transcriptions_bp, speech_bp,
)


def open_checked_store(settings: Settings) -> ObjectStore:
    """The configured store, refused at start-up (one line) when it cannot be used: a missing bucket
    or bad credentials found now, not as a 502 on the first image."""
    store = open_store(settings)
    try:
        store.check()
    except StorageError as exc:
        raise SettingsError(f"storage error: {exc.message}") from None
    return store


def link_signer(settings: Settings) -> LinkSigner:
    """The key for signed image links: `URL_SIGNING_SECRET`, or one derived from the Cloudflare token,
    which every worker and instance of one deployment shares too (a random key would make links fail
    on every worker but the one that signed them). A one-way derivation: links reveal nothing of it."""
    if settings.url_signing_secret is not None:
        return LinkSigner(settings.url_signing_secret.get_secret_value().encode())
    if settings.image_url_mode == "signed":
        log_event(log, "url_signing_secret_missing", level=logging.WARNING,
                  detail="URL_SIGNING_SECRET is not set: image links are signed with a key derived from "
                  "CLOUDFLARE_API_TOKEN, so they stop working when the token is rotated, and instances with "
                  "another token cannot serve them. Set URL_SIGNING_SECRET (16+ characters) on every instance.")
    token = settings.cloudflare_api_token.get_secret_value().encode()
    return LinkSigner(hmac.new(token, b"openai-compat image links v1", hashlib.sha256).digest())


def build_services(settings: Settings) -> Services:
    upstream = WorkersAIClient(settings)
    store = open_checked_store(settings)
    housekeeper = Housekeeper(store, sweep_prefix=IMAGE_PREFIX,
                              retention_seconds=settings.image_retention_days * 86400)
    housekeeper.start_sweeping()
    catalogue = ModelCatalogue(upstream.search_models, settings.models_cache_ttl_seconds)

    def catalogue_price(model: str) -> tuple[bool, object]:
        entries = catalogue.entries()
        if entries is None:
            return False, None
        entry = entries.get(model)
        return True, entry.properties.get("price") if entry is not None else None

    quotas = open_quotas(settings, key_policies(settings))
    quotas.on_refusal = metrics.count_refusal
    return Services(
        settings=settings,
        upstream=upstream,
        catalogue=catalogue,
        fetcher=GuardedFetcher(
            max_bytes=settings.image_max_bytes, timeout_seconds=settings.image_fetch_timeout_seconds
        ),
        # Order matters only for reading: the log line first, then metrics, then the key's totals.
        meter=Meter([log_usage, metrics.record_usage, quotas.charge],
                    pricer=PriceBook(catalogue_price, settings.model_prices).cost),
        storage=store,
        housekeeper=housekeeper,
        link_signer=link_signer(settings),
        quotas=quotas,
    )


def build_app(settings: Settings | None = None) -> Flask:
    """Application factory; raises SettingsError (one line) when configuration is bad."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    if settings.allow_unauthenticated and not (settings.gateway_api_keys or settings.named_api_keys):
        log_event(log, "auth_disabled", level=logging.WARNING,
                  detail="ALLOW_UNAUTHENTICATED is set: anyone can call this gateway")

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.url_map.strict_slashes = False
    app.json = FlaskJSON(app)
    svc = build_services(settings)
    app.extensions[EXTENSION_KEY] = svc
    limited = any(policy.limited for policy in svc.quotas.policies.values())
    if limited and not svc.quotas.shared and settings.web_concurrency > 1:
        log_event(log, "limits_per_worker", level=logging.WARNING,
                  detail=f"without REDIS_URL each of the {settings.web_concurrency} workers counts limits and "
                  "budgets on its own: set REDIS_URL to enforce them exactly")

    init_body_deadline(app, settings.http_body_timeout_seconds)
    init_request_log(app)
    init_retry_policy(app)
    init_connections(app)
    init_cors(app, settings.cors_allowed_origins)
    init_auth(app, key_ring(settings, dict(svc.quotas.policies)), settings)
    init_observability(app)
    register_error_handlers(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(admin.bp)
    if settings.console_enabled:
        app.register_blueprint(console_bp)  # pages for people; off unless asked for (see README, Console)
    app.register_blueprint(openapi.bp)
    for family in FAMILIES:
        app.register_blueprint(family, url_prefix="/v1")
        app.register_blueprint(family, url_prefix="", name=f"{family.name}_unversioned")
    return app
