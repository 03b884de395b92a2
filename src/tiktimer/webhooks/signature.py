"""The `TikTok-Signature` header (reference §9): HMAC-SHA256 of "t.body" with the secret.

    TikTok-Signature: t=1633174587,s=<64 hex chars>

The body is signed as received, byte for byte, so verification runs on the raw request
body before any JSON parsing. The comparison is constant-time, and a timestamp further
than `tolerance` seconds from now (either way) is refused, so a captured delivery cannot
be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "TikTok-Signature"


class SignatureError(Exception):
    """The delivery is not provably TikTok's; the message says why (no secrets in it)."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value TikTok would send for `body` at `timestamp`."""
    return f"t={timestamp},s={_digest(secret, body, str(timestamp))}"


def verify(header: str | None, body: bytes, secret: str, *, now: float, tolerance: float) -> int:
    """Check the header against the raw body; return its timestamp or raise `SignatureError`."""
    if not header:
        raise SignatureError("missing TikTok-Signature header")
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep and name and value:
            fields.setdefault(name, value)
    timestamp_text, signature = fields.get("t", ""), fields.get("s", "")
    # ASCII digits only, and few: int() refuses '²' and 5000-digit strings with a ValueError.
    digits = timestamp_text.isascii() and timestamp_text.isdigit() and len(timestamp_text) <= 20
    if not digits or not signature:
        raise SignatureError("malformed TikTok-Signature header")
    timestamp = int(timestamp_text)
    expected = _digest(secret, body, timestamp_text)  # signed as sent, digits and all
    if not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        raise SignatureError("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance")
    return timestamp


def _digest(secret: str, body: bytes, timestamp: str) -> str:
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
