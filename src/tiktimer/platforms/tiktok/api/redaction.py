"""Keeps secrets (tokens, codes, upload credentials) out of log lines and error messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from urllib.parse import quote, quote_plus

import httpx
from pydantic import SecretStr

_SENSITIVE_QUERY = re.compile(
    r"(?<=[?&])(upload_token|access_token|refresh_token|token|code|code_verifier|client_secret)"
    r"=[^&#\s\"']*",
    re.IGNORECASE,
)


def _redact_url(url: str) -> str:
    return _SENSITIVE_QUERY.sub(lambda m: f"{m.group(1)}=***", url)


class _RedactUrlFilter(logging.Filter):
    """Masks credentials in URL query strings that httpx logs (``HTTP Request: PUT
    https://…?upload_token=…``): the upload URL's token is the upload credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _redact_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def install_httpx_log_redaction() -> None:
    """Add the URL filter to httpx's logger once, however many clients are built."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrlFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactUrlFilter())


def redact(text: str | None, secret_values: Sequence[str]) -> str | None:
    """Remove any secret we sent from text TikTok sent back (defence in depth)."""
    if text is None:
        return None
    for value in secret_values:
        if value and len(value) >= 4:
            for form in {value, quote(value, safe=""), quote_plus(value, safe="")}:
                text = text.replace(form, "***")
    return text


def secret(value: str | SecretStr) -> str:
    """The plain value of a secret passed either way."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value
