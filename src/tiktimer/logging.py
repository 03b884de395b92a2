"""Log setup: every line carries the request id (or job id) of the work it belongs to."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from tiktimer.kit.redact import install_log_redaction

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [rid=%(request_id)s] %(message)s"


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_tiktimer", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_RequestIdFilter())
    handler._tiktimer = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    install_log_redaction()  # OAuth codes, states, signatures in access-log query strings
    # httpx logs full URLs at INFO, and OAuth URLs can carry codes: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def install_request_id_filter() -> None:
    """Make `%(request_id)s` safe for handlers installed by others (uvicorn, pytest caplog)."""
    old_factory = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = old_factory(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    if not getattr(old_factory, "_tiktimer", False):
        factory._tiktimer = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
