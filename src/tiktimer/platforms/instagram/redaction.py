"""Secrets out of log lines: httpx logs each request's URL, and the token exchange and
refresh carry `access_token` and `client_secret` in the query (§2.3)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import httpx

from tiktimer.kit.redact import redact_query


class _UrlFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(str(arg)) if isinstance(arg, httpx.URL | str) else arg
                for arg in record.args
            )
        return True


def install_httpx_redaction() -> None:
    """Add the filter to httpx's logger once, however many clients are built."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _UrlFilter) for f in logger.filters):
        logger.addFilter(_UrlFilter())


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove any secret we sent from text Meta sent back (defence in depth)."""
    for value in secrets:
        if value and len(value) >= 4:
            for form in {value, quote(value, safe=""), quote_plus(value, safe="")}:
                text = text.replace(form, "***")
    return text
