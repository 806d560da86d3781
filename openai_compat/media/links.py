"""Keys of stored images and the signed links the gateway serves them at.

A key is `images/YYYY/MM/DD/<random>.<ext>`: dated, so a retention rule or a person can see its age,
and 192 random bits, so no key can be guessed. A signed link carries its expiry and an HMAC-SHA256 of
(key, expiry) under `URL_SIGNING_SECRET`: any worker or instance holding the same secret verifies
it, none needs to remember what it handed out, and a link cannot be stretched or moved to another key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote

IMAGE_PREFIX = "images/"
_VERSION = b"v1"


def new_key(extension: str, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{IMAGE_PREFIX}{now:%Y/%m/%d}/{secrets.token_urlsafe(24)}.{extension}"


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret

    def signature(self, key: str, expires: int) -> str:
        digest = hmac.new(self._secret, b"\n".join((_VERSION, key.encode(), str(expires).encode())), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")

    def query(self, key: str, ttl_seconds: int, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + ttl_seconds)
        return f"expires={expires}&signature={quote(self.signature(key, expires))}"

    def verify(self, key: str, expires: str | None, signature: str | None, now: float | None = None) -> str | None:
        """None when the link is good, else why not ("missing", "expired", "invalid")."""
        if not expires or not signature:
            return "missing"
        if not expires.isdigit() or len(expires) > 12:
            return "invalid"
        if not hmac.compare_digest(self.signature(key, int(expires)).encode(), signature.encode()):
            return "invalid"
        if int(expires) < (now if now is not None else time.time()):
            return "expired"
        return None
