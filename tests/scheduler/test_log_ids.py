"""A published post's log lines name it and the worker that published it (JSON format)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.scheduler.conftest import Workers, World, settled
from tiktimer.logging import ContextIdsFilter, JsonFormatter


@pytest.fixture
def scheduler_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextIdsFilter())
    logger = logging.getLogger("tiktimer.scheduler")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def test_post_lines_carry_post_and_worker_ids(
    world: World, workers: Workers, scheduler_lines: io.StringIO
) -> None:
    [post_id] = await world.ready()
    dispatcher = workers.start()
    [post] = await settled(world, [post_id])
    assert post.status == "published", post.last_error
    await workers.stop(dispatcher)
    lines = [json.loads(line) for line in scheduler_lines.getvalue().splitlines()]
    about_it = [line for line in lines if f"post_id={post_id} " in f"{line['message']} "]
    assert len(about_it) >= 4, lines  # claimed, initializing, uploading, ..., published
    assert [line.get("post_id") for line in about_it] == [post_id] * len(about_it)
    assert {line.get("worker_id") for line in about_it} == {dispatcher.worker_id}
    started = next(line for line in lines if line["message"].startswith("scheduler.started"))
    assert started["worker_id"] == dispatcher.worker_id
    assert "post_id" not in started
