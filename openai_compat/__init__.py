"""openai-compat: an OpenAI-compatible API gateway in front of Cloudflare Workers AI."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from openai_compat.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory; raises SettingsError (one line) when configuration is bad.

    The app's modules are imported here, not at package import, so gunicorn's master (which only
    reads settings) does not load requests and ssl before the gevent worker patches them.
    """
    from openai_compat.web.app import build_app

    return build_app(settings)
