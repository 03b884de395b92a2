"""Keeps secrets (tokens, codes, upload credentials) out of error messages; log lines are
`kit.redact`'s (`install_http_client_redaction`)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from tiktimer.kit.redact import scrub


def redact(text: str | None, secret_values: Sequence[str]) -> str | None:
    """Remove any secret we sent from text TikTok sent back (defence in depth)."""
    return None if text is None else scrub(text, secret_values)


def secret(value: str | SecretStr) -> str:
    """The plain value of a secret passed either way."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value
