"""The console in-process: off unless `CONSOLE_ENABLED`, public shells with no data and no key, a
Content-Security-Policy that allows no inline code, static files that browsers may cache safely, and the
admin key reading `/metrics` (the usage page's error counts). Its behaviour in a browser is in
tests/browser."""

from __future__ import annotations

import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from openai_compat.console.assets import ASSETS, STATIC_DIR
from tests.service.conftest import Gateway

ADMIN = "sk-admin-console-secret"
ON = {"console_enabled": True, "admin_api_key": ADMIN}
PAGES = ("/console", "/console/usage")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class PageParts(HTMLParser):
    """What a policy without 'unsafe-inline' cares about: scripts, styles, event handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, Any]] = []
        self.stylesheets: list[str] = []
        self.inline: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[dict[str, Any]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
        if tag == "style":
            self.inline.append("<style>")
        if tag == "link" and found.get("rel") == "stylesheet":
            self.stylesheets.append(found.get("href") or "")
        self.inline += [f"{tag}[{name}]" for name in found if name == "style" or name.startswith("on")]
        if tag == "label" and found.get("for"):
            self.labels.add(found["for"] or "")
        if tag in ("input", "select", "textarea"):
            self.controls.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("inline <script>")


def parts(html: str) -> PageParts:
    parser = PageParts()
    parser.feed(html)
    return parser


def test_the_console_is_off_unless_enabled(gateway: Gateway) -> None:
    for path in (*PAGES, "/console/static/console.css"):
        reply = gateway.client.get(path)
        assert reply.status_code == 404
        assert reply.get_json()["error"]["code"] == "unknown_url"


@pytest.mark.parametrize("settings_overrides", [ON])
@pytest.mark.parametrize("path", PAGES)
def test_a_page_is_a_public_shell_with_no_inline_code_and_no_key(gateway: Gateway, path: str) -> None:
    reply = gateway.client.get(path)  # no key: the page holds no data
    assert reply.status_code == 200
    assert reply.content_type == "text/html; charset=utf-8"
    html = reply.get_data(as_text=True)
    page = parts(html)
    assert page.inline == []
    assert page.scripts and all(re.fullmatch(r"/console/static/\w+\.js\?v=[0-9a-f]{12}", s["src"] or "")
                                for s in page.scripts)
    assert page.stylesheets == [ASSETS["console.css"].url]
    for secret in ("sk-unit", ADMIN, "cf-token"):
        assert secret not in html
    # Every control has a label (the key input, model pickers, period fields...).
    unlabelled = [c.get("id") for c in page.controls if c.get("id") not in page.labels and c.get("type") != "hidden"]
    assert unlabelled == []
    # The key inputs are password fields the browser does not offer to remember.
    key_input = next(c for c in page.controls if c.get("id") == "key-input")
    assert key_input["type"] == "password" and key_input["autocomplete"] == "off"
    assert 'data-base-url="http://localhost/v1"' in html


@pytest.mark.parametrize("settings_overrides", [ON])
def test_the_pages_policy_allows_only_this_origins_scripts_and_styles(gateway: Gateway) -> None:
    reply = gateway.client.get("/console")
    policy = dict(part.strip().split(" ", 1) for part in reply.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data: blob:"
    assert policy["media-src"] == "'self' blob:"
    assert policy["connect-src"] == "'self'"
    assert policy["form-action"] == "'none'"  # a form can never carry the key anywhere, script or not
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in reply.headers["Content-Security-Policy"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("settings_overrides", [{**ON, "image_url_mode": "public",
                                                 "image_public_base_url": "https://images.example.com/bucket",
                                                 "public_base_url": "https://gateway.example.com:8443/"}])
def test_images_may_come_from_where_the_links_point(gateway: Gateway) -> None:
    reply = gateway.client.get("/console")
    policy = reply.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://gateway.example.com:8443 https://images.example.com;" in policy
    html = reply.get_data(as_text=True)
    assert 'data-base-url="https://gateway.example.com:8443/v1"' in html
    assert 'data-image-format="url"' in html


@pytest.mark.parametrize("settings_overrides", [ON])
def test_static_files_are_cached_by_version_and_revalidated_otherwise(gateway: Gateway) -> None:
    asset = ASSETS["playground.js"]
    versioned = gateway.client.get(asset.url)
    assert versioned.status_code == 200
    assert versioned.content_type == "text/javascript; charset=utf-8"
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.data == (STATIC_DIR / "playground.js").read_bytes()
    plain = gateway.client.get("/console/static/playground.js?v=old")
    assert plain.headers["Cache-Control"] == "no-cache"
    again = gateway.client.get("/console/static/playground.js", headers={"If-None-Match": f'"{asset.version}"'})
    assert again.status_code == 304
    assert gateway.client.get("/console/static/console.css").content_type == "text/css; charset=utf-8"
    for missing in ("/console/static/nope.js", "/console/static/../routes.py", "/console/static/%2e%2e/routes.py"):
        reply = gateway.client.get(missing)
        assert reply.status_code == 404, missing
        assert "error" in reply.get_json()


def test_the_pages_use_every_static_file_and_only_those() -> None:
    templates = Path(STATIC_DIR).parent / "templates" / "console"
    text = "".join(p.read_text() for p in templates.glob("*.html"))
    used = set(re.findall(r"asset\('([\w.]+)'\)", text))
    assert used == set(ASSETS)
    assert sum(p.stat().st_size for p in STATIC_DIR.iterdir()) < 80_000  # no framework crept in


@pytest.mark.parametrize("settings_overrides", [{**ON, "metrics_api_key": "sk-metrics"}])
def test_the_admin_key_reads_the_metrics_but_stays_no_client_key(gateway: Gateway) -> None:
    assert gateway.client.get("/metrics", headers=bearer(ADMIN)).status_code == 200
    assert gateway.client.get("/metrics", headers=bearer("sk-metrics")).status_code == 200
    assert gateway.get("/metrics").status_code == 401  # a client key, with METRICS_API_KEY set
    assert gateway.client.get("/metrics", headers={"Authorization": f"Basic {ADMIN}"}).status_code == 401
    assert gateway.client.get("/v1/models", headers=bearer(ADMIN)).status_code == 401
    assert gateway.get("/admin/usage").status_code == 401  # the usage view refuses client keys


@pytest.mark.parametrize("settings_overrides", [ON])
def test_the_admin_key_reads_the_metrics_where_any_client_key_may(gateway: Gateway) -> None:
    assert gateway.client.get("/metrics", headers=bearer(ADMIN)).status_code == 200
    assert gateway.get("/metrics").status_code == 200
    assert gateway.client.get("/metrics", headers=bearer("sk-nobody")).status_code == 401


def test_the_readme_shows_the_picture_the_browser_tests_take() -> None:
    """docs/console.png is the playground's screenshot (tests/browser, `UPDATE_CONSOLE_SCREENSHOT=1`)."""
    root = Path(__file__).resolve().parents[2]
    assert "](docs/console.png)" in (root / "README.md").read_text()
    picture = (root / "docs" / "console.png").read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", picture[16:24])
    assert width == 1280 and 700 < height < 1400
    assert len(picture) < 120_000  # small: a palette PNG
