"""Secrets out of log lines: query-string values of parameters that carry credentials.

Access logs print each request's path with its query string, and some of our URLs carry
secrets there: the OAuth callback (`code`, `state`), signed media URLs (`sig`), TikTok upload
URLs (`upload_token`), YouTube upload sessions (`upload_id`). So do the URLs the platform
clients call, which httpx and httpcore log: one filter and one list serve every platform
(filters that each knew only their own platform's names undid each other). The names
stay, so a line still says what was sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import httpx

REDACTED = "[redacted]"
SECRET_PARAMETERS = (
    "code",
    "state",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "upload_token",
    "upload_id",
    "code_verifier",
    "client_secret",
    "secret",
    "password",
    "ticket",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
)
_SECRET_VALUE = re.compile(
    r"(?<=[?&])(" + "|".join(re.escape(name) for name in SECRET_PARAMETERS) + r")=[^&#\s\"']*",
    re.IGNORECASE,
)
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error")
# A logger's filters see only the records logged on that very logger, not its children's:
# httpcore's trace loggers (response headers, a session's Location included) are named.
HTTP_CLIENT_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def redact_query(text: str) -> str:
    """`/cb?code=abc&x=1` -> `/cb?code=[redacted]&x=1`; text without a query is returned as is."""
    if "=" not in text:
        return text
    return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove any secret we sent from text a platform sent back (defence in depth), in the
    forms a URL or a form body would carry it."""
    for value in secrets:
        if value and len(value) >= 4:
            for form in {value, quote(value, safe=""), quote_plus(value, safe="")}:
                text = text.replace(form, REDACTED)
    return text


class RedactQueryFilter(logging.Filter):
    """Rewrites a record's message and string arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(str(arg)) if isinstance(arg, str | httpx.URL) else arg
                for arg in record.args
            )
        return True


def install_log_redaction() -> None:
    """Idempotent: one filter on each logger that prints request lines."""
    _install(REDACTED_LOGGERS)


def install_http_client_redaction() -> None:
    """Idempotent: the same filter on the loggers of httpx and httpcore, which every
    platform client sends through."""
    _install(HTTP_CLIENT_LOGGERS)


def _install(names: tuple[str, ...]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
            logger.addFilter(RedactQueryFilter())
