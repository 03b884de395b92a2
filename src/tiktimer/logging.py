"""Log setup: every line carries the ids (request, post, worker) of the work it belongs to.

Two formats, chosen by `TIKTIMER_LOG_FORMAT`: `text`, one readable line per record (the
default, for people), and `json`, one JSON object per line (for log shippers). Both go
through the same handler on the root logger, so uvicorn's own loggers (run with
`log_config=None`) and every library come out in the chosen format, and the query-string
redaction on uvicorn's loggers (`kit.redact`) runs before either formatter sees a record.

The ids live in context variables: the request middleware sets `request_id_var`, the
dispatcher sets `worker_id_var` once for its loop and `post_id_var` in the task of each
post, and asyncio copies the context into every task it starts, so a log line anywhere
below knows what it is part of without being told.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from tiktimer.kit.redact import install_log_redaction

LogFormat = Literal["text", "json"]

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
post_id_var: ContextVar[int | None] = ContextVar("post_id", default=None)
worker_id_var: ContextVar[str | None] = ContextVar("worker_id", default=None)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [rid=%(request_id)s] %(message)s"


class ContextIdsFilter(logging.Filter):
    """Copies the context's ids onto each record, for whichever formatter prints it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.post_id = post_id_var.get()
        record.worker_id = worker_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; ids appear only when known, `exc_info` as its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "-")
        if request_id and request_id != "-":
            line["request_id"] = request_id
        for name in ("post_id", "worker_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


def _iso_utc(created: float) -> str:
    stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(LOG_FORMAT)


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Idempotent: a second call (uvicorn's app factory in the same process) updates in place."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_tiktimer", False)]
    if ours:
        for handler in ours:
            handler.setFormatter(_formatter(log_format))
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(log_format))
    handler.addFilter(ContextIdsFilter())
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
