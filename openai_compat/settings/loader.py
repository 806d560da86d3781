"""Gateway settings: `settings.toml` for defaults, the environment for overrides and secrets.

A small explicit loader is used instead of pydantic-settings' source magic because two rules are
ours: secrets may come only from the environment, and `MODEL_ALIASES` from the environment is
merged over the file's alias table rather than replacing it.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from openai_compat.settings.formats import merged_table, parse_aliases
from openai_compat.settings.model import Settings

DEFAULT_SETTINGS_FILE = Path(__file__).resolve().parents[2] / "settings.toml"
SECRET_FIELDS = (
    "cloudflare_api_token",
    "gateway_api_keys",
    "cloudflare_ai_gateway_token",
    "r2_access_key_id",
    "r2_secret_access_key",
    "url_signing_secret",
    "redis_url",
    "admin_api_key",
    "metrics_api_key",
)
JSON_TABLE_FIELDS = ("named_api_keys", "model_prices")
"""Tables in `settings.toml`; in the environment, JSON objects merged over the file's table by name."""


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line that names it."""


def _env_name(field: str) -> str:
    return field.upper()


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"configuration error: {path.name} is not valid TOML ({exc})") from None
    for secret in SECRET_FIELDS:
        if secret in data:
            raise SettingsError(
                f"configuration error: {_env_name(secret)} is a secret: set it in the environment, "
                f"not in {path.name}"
            )
    return data


def load_settings(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Build the settings or raise SettingsError with one line naming the bad setting."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = Path(environ.get("OPENAI_COMPAT_SETTINGS_FILE", DEFAULT_SETTINGS_FILE))
    values = _read_file(path)
    aliases = dict(values.pop("model_aliases", {}) or {})
    for field in Settings.model_fields:
        raw = environ.get(_env_name(field))
        if raw is not None and field != "model_aliases" and field not in JSON_TABLE_FIELDS:
            values[field] = raw
    for field in JSON_TABLE_FIELDS:
        try:
            values[field] = merged_table(values.get(field), environ.get(_env_name(field), ""))
        except ValueError as exc:
            raise SettingsError(f"configuration error: {_env_name(field)} is invalid: {exc}") from None
    try:
        aliases.update(parse_aliases(environ.get("MODEL_ALIASES", "")))
    except (ValueError, json.JSONDecodeError) as exc:
        raise SettingsError(f"configuration error: MODEL_ALIASES is invalid: {exc}") from None
    values["model_aliases"] = aliases
    for key in ("cloudflare_ai_gateway_id", "cloudflare_ai_gateway_token", "r2_endpoint_url", "r2_bucket",
                "r2_access_key_id", "r2_secret_access_key", "url_signing_secret", "image_public_base_url",
                "public_base_url"):
        if values.get(key) == "":
            values[key] = None
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a rule across settings: its message names them
            raise SettingsError(f"configuration error: {str(error['msg']).removeprefix('Value error, ')}") from None
        field = str(error["loc"][0])
        inside = ".".join(str(part) for part in error["loc"][1:])  # which entry of a table
        message = f"{inside}: {error['msg']}" if inside else error["msg"]
        problem = "is required" if error["type"] == "missing" and not inside else f"is invalid: {message}"
        where = "in the environment" if field in SECRET_FIELDS else f"in the environment or {path.name}"
        raise SettingsError(f"configuration error: {_env_name(field)} {problem} (set it {where})") from None
    if not settings.gateway_api_keys and not settings.named_api_keys and not settings.allow_unauthenticated:
        raise SettingsError(
            "configuration error: GATEWAY_API_KEYS is required "
            "(comma-separated client keys, or NAMED_API_KEYS; or set ALLOW_UNAUTHENTICATED=true to run without auth)"
        )
    return settings
