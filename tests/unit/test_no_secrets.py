"""No secret in the repository or its history: every tracked file and every change ever committed is
scanned for what real credentials look like (Cloudflare API tokens, R2 and AWS keys, OpenAI keys of
real length, GitHub tokens, private keys). Test fixtures' obviously fake keys do not look like them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS or R2 secret access key": re.compile(
        r"(?i)(?:aws|r2)_?secret_?access_?key\W{1,4}[\"']?(?P<value>[A-Za-z0-9/+=]{40,64})\b"),
    "R2 access key id": re.compile(r"(?i)r2_?access_?key_?id\W{1,4}[\"']?(?P<value>[0-9a-f]{32})\b"),
    "Cloudflare API token": re.compile(
        r"(?i)(?:cloudflare|cf)_?(?:api_?)?token\W{1,4}[\"']?(?P<value>[A-Za-z0-9_-]{40})(?![A-Za-z0-9_-])"),
    "OpenAI API key": re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{40,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
}


def _looks_random(value: str) -> bool:
    """Real keys are random; fixtures read like words or repeat a character."""
    if len(set(value)) < 10:
        return False
    lowered = value.lower()
    return not any(word in lowered for word in ("test", "fake", "example", "dummy", "emulator", "moto", "local"))


def findings(text: str, where: str) -> list[str]:
    found = []
    for name, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.groupdict().get("value") or match.group(0)
            if name == "private key" or _looks_random(value):
                found.append(f"{where}: {name} ({value[:6]}...)")
    return found


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, errors="replace",
                          check=True).stdout


def test_the_scanner_finds_real_looking_secrets() -> None:
    # Built at run time, so this file itself holds none of them.
    token = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5kL7n"
    samples = [
        "CLOUDFLARE_API_TOKEN=" + token,
        "AKIA" + "Z7QWERTYUIOPASDF",
        "R2_SECRET_ACCESS_KEY = '" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0" * 2 + "'",
        "key = 'sk-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6" + "'",
        "-----BEGIN " + "PRIVATE KEY-----",
    ]
    for sample in samples:
        assert findings(sample, "sample"), sample
    for fixture in ("sk-test-gateway-key-0001", "CLOUDFLARE_API_TOKEN=emulator-token", "sk-" + "x" * 48,
                    "R2_SECRET_ACCESS_KEY=moto-secret-key"):
        assert not findings(fixture, "fixture"), fixture


def test_no_tracked_file_holds_a_secret() -> None:
    try:
        tracked = _git("ls-files", "-z").split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    found: list[str] = []
    for name in filter(None, tracked):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        found += findings(path.read_text(errors="replace"), name)
    assert not found, found


def test_no_commit_in_the_history_added_a_secret() -> None:
    try:
        history = _git("log", "--all", "-p", "--no-color", "--no-ext-diff", "--format=commit %H")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here")
    found: list[str] = []
    commit = "?"
    for line in history.splitlines():
        if line.startswith("commit "):
            commit = line[7:19]
        elif line.startswith("+") and not line.startswith("+++"):
            found += findings(line, f"commit {commit}")
    assert not found, found
