"""Identifiers shaped like TikTok's, so clients that make assumptions about them fail.

Codes and tokens include characters that must be percent-encoded (`*`, `!`, `/`), which
catches clients that forget to URL-decode the callback code or encode it twice.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from .enums import MediaType, PostMode, Source

_OPEN_ID_NAMESPACE = uuid.UUID("6f1c3c1e-5d0a-4b8e-9a57-0e5b1e7a2c11")

# Post ids are int64 values beyond 2**53, like the real ones (~7.4e18).
_POST_ID_LOW = 7_000_000_000_000_000_000
_POST_ID_HIGH = 7_499_999_999_999_999_999


def authorization_code() -> str:
    return f"{secrets.token_urlsafe(24)}*3!{secrets.token_hex(4)}/{secrets.randbelow(10**4)}.va"


def access_token() -> str:
    return f"act.{secrets.token_urlsafe(32)}!{secrets.randbelow(10**4):04d}.va"


def refresh_token() -> str:
    return f"rft.{secrets.token_urlsafe(32)}!{secrets.randbelow(10**4):04d}.va"


def token_hash(token: str) -> str:
    """What the request log keeps instead of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_id(client_key: str, username: str) -> str:
    """Per-app user id with hyphens, stable across restarts so other processes can predict it."""
    return str(uuid.uuid5(_OPEN_ID_NAMESPACE, f"{client_key}:{username}"))


def union_id(username: str) -> str:
    return str(uuid.uuid5(_OPEN_ID_NAMESPACE, f"union:{username}"))


def log_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(10).upper()


def publish_id(media: MediaType, mode: PostMode, source: Source) -> str:
    kind = "p" if media is MediaType.PHOTO else "v"
    target = "pub" if mode is PostMode.DIRECT_POST else "inbox"
    origin = "file" if source is Source.FILE_UPLOAD else "url"
    version = "v2-1" if (kind, target, origin) == ("v", "pub", "file") else "v2"
    return f"{kind}_{target}_{origin}~{version}.{secrets.randbelow(10**18) + 10**18}"


def upload_id() -> str:
    return str(secrets.randbelow(10**18) + 10**18)


def post_id() -> int:
    return _POST_ID_LOW + secrets.randbelow(_POST_ID_HIGH - _POST_ID_LOW)
