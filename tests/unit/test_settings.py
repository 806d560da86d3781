"""Settings: file defaults, environment overrides, secrets from the environment only, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openai_compat.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
ENV = {"CLOUDFLARE_ACCOUNT_ID": "acct", "CLOUDFLARE_API_TOKEN": "tok", "GATEWAY_API_KEYS": "k1, k2"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def test_repository_settings_file_loads_with_environment_secrets() -> None:
    settings = load_settings(ENV, ROOT / "settings.toml")
    assert settings.workers_ai_base_url == "https://api.cloudflare.com/client/v4"
    assert settings.api_keys == (b"k1", b"k2")
    assert settings.model_aliases["gpt-4o-mini"].startswith("@cf/")


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'port = 9000\nworkers_ai_base_url = "http://a.test"\n[model_aliases]\n"x" = "@cf/a/b"\n')
    env = {**ENV, "PORT": "7000", "WORKERS_AI_BASE_URL": "http://emu.test/client/v4/"}
    settings = load_settings(env, path)
    assert settings.port == 7000
    assert settings.workers_ai_base_url == "http://emu.test/client/v4"


def test_model_aliases_from_the_environment_merge_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[model_aliases]\n"a" = "@cf/one/a"\n"b" = "@cf/one/b"\n')
    settings = load_settings({**ENV, "MODEL_ALIASES": "b=@cf/two/b, c=@cf/two/c"}, path)
    assert settings.model_aliases == {"a": "@cf/one/a", "b": "@cf/two/b", "c": "@cf/two/c"}
    as_json = load_settings({**ENV, "MODEL_ALIASES": '{"a": "@cf/three/a"}'}, path)
    assert as_json.model_aliases["a"] == "@cf/three/a"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"CLOUDFLARE_API_TOKEN": "t", "GATEWAY_API_KEYS": "k"}, "CLOUDFLARE_ACCOUNT_ID is required"),
        ({"CLOUDFLARE_ACCOUNT_ID": "a", "GATEWAY_API_KEYS": "k"}, "CLOUDFLARE_API_TOKEN is required"),
        ({"CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_API_TOKEN": "t"}, "GATEWAY_API_KEYS is required"),
        ({**ENV, "PORT": "eighty"}, "PORT is invalid"),
        ({**ENV, "WORKERS_AI_BASE_URL": "ftp://x"}, "WORKERS_AI_BASE_URL is invalid"),
        ({**ENV, "MODEL_ALIASES": "gpt-4o=llama"}, "MODEL_ALIASES is invalid"),
        ({**ENV, "MODEL_ALIASES": "nonsense"}, "MODEL_ALIASES is invalid"),
        ({**ENV, "MODERATION_DEFAULT_MODEL": "omni-moderation-latest"}, "MODERATION_DEFAULT_MODEL must be"),
        ({**ENV, "RERANK_DEFAULT_MODEL": "rerank-v3.5"}, "RERANK_DEFAULT_MODEL must be"),
    ],
)
def test_bad_or_missing_settings_name_the_variable(tmp_path: Path, env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, write(tmp_path, ""))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_default_models_may_be_aliases(tmp_path: Path) -> None:
    env = {**ENV, "MODEL_ALIASES": "guard=@cf/meta/llama-guard-3-8b", "MODERATION_DEFAULT_MODEL": "guard"}
    assert load_settings(env, write(tmp_path, "")).moderation_default_model == "guard"


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CLOUDFLARE_API_TOKEN is a secret"):
        load_settings(ENV, write(tmp_path, 'cloudflare_api_token = "oops"\n'))


def test_running_without_keys_needs_the_explicit_switch(tmp_path: Path) -> None:
    env = {"CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_API_TOKEN": "t", "ALLOW_UNAUTHENTICATED": "true"}
    assert load_settings(env, write(tmp_path, "")).gateway_api_keys == []


def test_gunicorn_start_up_fails_with_one_clear_line() -> None:
    env = {"PATH": "/usr/bin:/bin", "CLOUDFLARE_API_TOKEN": "secret-value", "GATEWAY_API_KEYS": "k"}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert output.splitlines() == [
        "configuration error: CLOUDFLARE_ACCOUNT_ID is required (set it in the environment or settings.toml)"
    ]
    assert "secret-value" not in output


def test_validators_of_every_settings_part_apply() -> None:
    """The settings are assembled from parts; each part's rules must still hold on the whole."""
    base = {"CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_API_TOKEN": "t", "GATEWAY_API_KEYS": "k"}
    settings = load_settings({**base, "WORKERS_AI_BASE_URL": "http://x.test/v4/",
                              "PUBLIC_BASE_URL": "https://gw.test/"}, path=Path("/nonexistent.toml"))
    assert settings.workers_ai_base_url == "http://x.test/v4" and settings.public_base_url == "https://gw.test"
    for bad in ({"PUBLIC_BASE_URL": "ftp://x"}, {"R2_ENDPOINT_URL": "nope"}, {"URL_SIGNING_SECRET": "short"}):
        with pytest.raises(SettingsError):
            load_settings({**base, **bad}, path=Path("/nonexistent.toml"))
