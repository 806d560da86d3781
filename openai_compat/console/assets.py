"""The console's static files, each with a version taken from its content.

Pages link `name?v=<version>`; a request with the current version may be cached for a year (a new
release changes the version, so browsers never keep a stale script), any other is revalidated.
Read once at import: the files ship with the package and do not change while it runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/console/static"
TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
"""Named here, not guessed from the system's MIME table: a script served as text/plain would not run."""


@dataclass(frozen=True)
class Asset:
    path: Path
    version: str
    content_type: str

    @property
    def url(self) -> str:
        return f"{STATIC_PATH}/{self.path.name}?v={self.version}"


def _load() -> dict[str, Asset]:
    found = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file() and path.suffix in TYPES:
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            found[path.name] = Asset(path, version, TYPES[path.suffix])
    return found


ASSETS: dict[str, Asset] = _load()
