"""`python -m openai_compat new-key NAME`: a secret printed once, and settings that accept exactly it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from openai_compat.settings import load_settings
from openai_compat.web.auth import key_policies, key_ring

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openai_compat", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_the_printed_table_declares_the_printed_secret(tmp_path: Path) -> None:
    result = run("new-key", "ci.bot")
    assert result.returncode == 0, result.stderr
    secret = re.search(r"^  (sk-[0-9a-f]{64})$", result.stdout, re.MULTILINE).group(1)  # type: ignore[union-attr]
    table = result.stdout[result.stdout.index("[named_api_keys."):].split("\n\n")[0]
    path = tmp_path / "settings.toml"
    path.write_text(table + "\n")
    assert "ci.bot" in tomllib.loads(path.read_text())["named_api_keys"]
    settings = load_settings({"CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_API_TOKEN": "t"}, path)
    ring = key_ring(settings, key_policies(settings))
    caller = ring.identify(secret)
    assert caller is not None and caller.name == "ci.bot"
    assert ring.identify(secret + "x") is None
    assert secret not in path.read_text()


def test_a_bad_name_is_refused() -> None:
    result = run("new-key", "no spaces")
    assert result.returncode == 2 and "usage" in result.stderr
