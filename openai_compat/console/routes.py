"""`/console` (the playground) and `/console/usage` (the operator's view), with their static files.

The pages are public shells with no data in them and no key: their scripts ask for a key, keep it in
the tab's session storage, and send it in the `Authorization` header to the gateway's own endpoints
(`/v1/...`, `/admin/usage`, `/metrics`, `/ready`), so the console shows nothing those do not. Every
response carries a Content-Security-Policy that allows scripts and styles from this origin only (no
inline code), so a script injected into a page could not run. Registered only with `CONSOLE_ENABLED`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request, send_file

from openai_compat.console.assets import ASSETS
from openai_compat.errors import NotFoundError
from openai_compat.settings import Settings
from openai_compat.web.auth import public
from openai_compat.web.public_url import public_base
from openai_compat.web.services import services

bp = Blueprint("console", __name__, template_folder="templates")
YEAR = 365 * 24 * 3600


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """Same-origin everything; images may also be data: and blob: URLs (b64_json, local previews), and
    come from where this gateway's image links point when that is another origin."""
    image_sources = ["'self'", "data:", "blob:"]
    if settings.public_base_url:
        image_sources.append(_origin(settings.public_base_url))
    if settings.image_url_mode == "public" and settings.image_public_base_url:
        image_sources.append(_origin(settings.image_public_base_url))
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {' '.join(dict.fromkeys(image_sources))}",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",  # the forms are handled by script; without it nothing may be submitted
        "frame-ancestors 'none'",
    ))


def _page(template: str, page: str) -> Response:
    settings = services().settings
    # Presigned R2 links point at the bucket's host, which the policy does not allow: ask for the bytes.
    image_format = "b64_json" if settings.image_url_mode == "presigned" else "url"
    html = render_template(template, page=page, base_url=public_base(settings) + "/v1",
                           image_format=image_format, asset=lambda name: ASSETS[name].url)
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/console")
@public
def playground() -> Response:
    return _page("console/playground.html", "playground")


@bp.get("/console/usage")
@public
def usage() -> Response:
    return _page("console/usage.html", "usage")


@bp.get("/console/static/<path:name>")
@public
def static_file(name: str) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        raise NotFoundError(f"The console has no file {name!r}.", code="unknown_url")
    response = send_file(asset.path, mimetype=asset.content_type, conditional=True, etag=asset.version,
                         max_age=None)
    if request.args.get("v") == asset.version:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy(services().settings)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
