"""Identifiers and secrets the emulator hands out, and the hash it keeps of each secret."""

from __future__ import annotations

import hashlib
import secrets

# Graph ids are numeric strings of int64 size (§4.2); one counter per kind keeps them apart.
_BASES = {
    "user": 17_841_400_000_000_000,
    "scoped": 26_000_000_000_000_000,
    "container": 18_000_000_000_000_000,
    "media": 17_900_000_000_000_000,
}


def numeric_id(kind: str) -> str:
    return str(_BASES[kind] + secrets.randbelow(10**15))


def access_token() -> str:
    """Instagram-Login tokens begin "IGAA" in public samples; the rest is opaque."""
    return "IGAA" + secrets.token_urlsafe(48)


def auth_code() -> str:
    return "AQ" + secrets.token_urlsafe(96)


def trace_id() -> str:
    return secrets.token_urlsafe(8)


def secret_hash(value: str) -> str:
    """Tokens and codes are stored only as SHA-256 hex, so a state dump holds no secret."""
    return hashlib.sha256(value.encode()).hexdigest()
