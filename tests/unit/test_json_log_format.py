"""The JSON log line: its fields, the ids from context variables, tracebacks, redaction."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from tiktimer.kit.redact import install_log_redaction
from tiktimer.logging import ContextIdsFilter, JsonFormatter, post_id_var, worker_id_var


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Our JSON handler on a private logger tree (and uvicorn.access), nothing else."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextIdsFilter())
    names = ("tests.json", "uvicorn.access")
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_fields_and_unknown_ids_left_out(captured: io.StringIO) -> None:
    logging.getLogger("tests.json").info("posts.%s", "claimed")
    [line] = _lines(captured)
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["message"] == "posts.claimed"
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.json"
    assert str(line["time"]).endswith("Z")


def test_post_and_worker_ids_come_from_each_tasks_context(captured: io.StringIO) -> None:
    log = logging.getLogger("tests.json")

    async def one_post(post_id: int) -> None:
        post_id_var.set(post_id)
        await asyncio.sleep(0)
        log.info("step")

    async def dispatcher() -> None:
        worker_id_var.set("host:1:abc")
        await asyncio.gather(one_post(7), one_post(8))
        log.info("round done")

    asyncio.run(dispatcher())
    lines = _lines(captured)
    assert sorted((line.get("post_id"), line.get("worker_id")) for line in lines[:2]) == [
        (7, "host:1:abc"),
        (8, "host:1:abc"),
    ]
    assert "post_id" not in lines[2]  # the dispatcher's own line belongs to no post


def test_exception_is_one_string_field(captured: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests.json").exception("failed")
    [line] = _lines(captured)
    assert isinstance(line["exc_info"], str)
    assert "ValueError: boom" in line["exc_info"]


def test_access_line_secrets_are_redacted_in_json(captured: io.StringIO) -> None:
    install_log_redaction()
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:1",
        "GET",
        "/cb?code=SECRET1&state=SECRET2",
        "1.1",
        200,
    )
    text = captured.getvalue()
    assert "SECRET" not in text
    assert "code=[redacted]&state=[redacted]" in _lines(captured)[0]["message"]  # type: ignore[operator]
