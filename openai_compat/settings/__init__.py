"""Gateway settings: `settings.toml` for defaults, the environment for overrides and secrets."""

from openai_compat.settings.core import CLOUDFLARE_API_BASE
from openai_compat.settings.loader import (
    DEFAULT_SETTINGS_FILE,
    SECRET_FIELDS,
    SettingsError,
    load_settings,
    parse_aliases,
)
from openai_compat.settings.model import Settings

__all__ = [
    "CLOUDFLARE_API_BASE",
    "DEFAULT_SETTINGS_FILE",
    "SECRET_FIELDS",
    "Settings",
    "SettingsError",
    "load_settings",
    "parse_aliases",
]
