"""Keeps tokens, codes and upload session ids out of the log lines httpx and httpcore write."""

from __future__ import annotations

import logging
import re

import httpx

_SENSITIVE = re.compile(
    r"(?<=[?&])(token|access_token|refresh_token|code|code_verifier|client_secret|upload_id)"
    r"=[^&#\s\"']*",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    return _SENSITIVE.sub(lambda m: f"{m.group(1)}=***", url)


# A logger's filters see only the records logged on that very logger, not its children's,
# so httpcore's trace loggers (which log response headers, Location included) are named.
LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")


class _RedactUrlFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_url(str(a)) if isinstance(a, httpx.URL | str) else a for a in record.args
            )
        return True


def install() -> None:
    """Add the filter to httpx's and httpcore's loggers once, however many clients are built."""
    for name in LOGGERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, _RedactUrlFilter) for f in log.filters):
            log.addFilter(_RedactUrlFilter())
