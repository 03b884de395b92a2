"""How a delivery proves it is ours: TikTok's own scheme (shared tiktok-api.md §9).

    TikTimer-Signature: t=1633174587,s=<64 hex chars>

`s` is HMAC-SHA256, keyed with the endpoint's secret, of the timestamp, a dot and the body
as sent, byte for byte. A receiver recomputes it over the raw body, compares in constant
time, and refuses a timestamp far from its clock (a replayed delivery); README shows how.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "TikTimer-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: 256 random bits, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` sent at `timestamp` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def matches(header: str, body: bytes, secret: str) -> bool:
    """Whether `header` signs `body` with `secret` (the receiver's side, for tests and docs)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = fields.get("t", "")
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    return hmac.compare_digest(signature(secret, body, int(timestamp)), header.strip())
