"""Secrets out of log lines: query-string values of parameters that carry credentials.

Access logs print each request's path with its query string, and some of our URLs carry
secrets there: the OAuth callback (`code`, `state`), signed media URLs (`sig`), TikTok upload
URLs (`upload_token`). The names stay, so a line still says what was sent.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
SECRET_PARAMETERS = (
    "code",
    "state",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "upload_token",
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


def redact_query(text: str) -> str:
    """`/cb?code=abc&x=1` -> `/cb?code=[redacted]&x=1`; text without a query is returned as is."""
    if "=" not in text:
        return text
    return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


class RedactQueryFilter(logging.Filter):
    """Rewrites a record's message and string arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install_log_redaction() -> None:
    """Idempotent: one filter on each logger that prints request lines."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
            logger.addFilter(RedactQueryFilter())
