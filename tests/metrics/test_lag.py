"""`metrics.lag.LagTally`: the same histogram as bucketing every first attempt, while each
scrape reads only the attempts after the folded id; an id is folded only once it has
settled, so a row committed late under a smaller id is still counted."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.metrics.lag import LagTally
from tiktimer.models import Post, PostAttempt, User


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rows:
    engine: AsyncEngine
    user_id: int
    due: datetime
    post_ids: list[int] = field(default_factory=list)

    async def first_attempt(self, late: float, *, attempt_id: int | None = None) -> None:
        async with self.engine.begin() as connection:
            post_id = (
                await connection.execute(
                    insert(Post).values(user_id=self.user_id, scheduled_time=self.due,
                                        status="published").returning(Post.id)
                )
            ).scalar_one()  # fmt: skip
            self.post_ids.append(post_id)
            values = {"post_id": post_id, "number": 1, "outcome": "published",
                      "started_at": self.due + timedelta(seconds=late)}  # fmt: skip
            if attempt_id is not None:
                values["id"] = attempt_id
            await connection.execute(insert(PostAttempt).values(**values))

    async def largest_attempt_id(self) -> int:
        async with self.engine.connect() as connection:
            ids = (await connection.execute(select(PostAttempt.id))).scalars().all()
        return max(ids)


@pytest.fixture
async def rows(database: DatabaseUnderTest) -> AsyncIterator[Rows]:
    engine = create_engine(database.url)
    name = f"lag-{secrets.token_hex(4)}"
    async with engine.begin() as connection:
        user_id = (
            await connection.execute(
                insert(User).values(username=name, email=f"{name}@example.com",
                                    hashed_password="-").returning(User.id)
            )
        ).scalar_one()  # fmt: skip
    made = Rows(engine, user_id, utc_now() - timedelta(hours=1))
    try:
        yield made
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(PostAttempt).where(PostAttempt.post_id.in_(made.post_ids))
            )
            await connection.execute(delete(Post).where(Post.user_id == user_id))
            await connection.execute(delete(User).where(User.id == user_id))
        await engine.dispose()


async def read(tally: LagTally, engine: AsyncEngine) -> tuple[int, float, list[str]]:
    """(count, sum, the lag statements' bounds) of one read."""
    bounds: list[str] = []

    def seen(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        if "post_attempts.id >" in statement:
            bounds.append(repr(params))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with engine.connect() as connection:
            histogram = (await tally.read(connection))["tiktok"]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    return histogram.count, histogram.sum, bounds


async def test_folded_counts_add_up_to_every_first_attempt(rows: Rows) -> None:
    clock = Clock()
    tally = LagTally(settle_seconds=60, clock=clock)
    for late in (2, 20, 200):
        await rows.first_attempt(late)
    assert (await read(tally, rows.engine))[:2] == (3, pytest.approx(222, abs=0.01))
    assert tally.upto == 0  # nothing settled yet: every row read again

    clock.now += 61
    await rows.first_attempt(2000)
    count, total, bounds = await read(tally, rows.engine)
    assert (count, total) == (4, pytest.approx(2222, abs=0.01))
    first_three = tally.upto
    assert first_three > 0
    assert len(bounds) == 2  # folding up to the settled id, then the tail after it

    clock.now += 1
    count, total, bounds = await read(tally, rows.engine)
    assert (count, total) == (4, pytest.approx(2222, abs=0.01))
    assert len(bounds) == 1  # only the tail
    assert str(first_three) in bounds[0]


async def test_a_row_committed_late_under_a_smaller_id_is_counted(rows: Rows) -> None:
    clock = Clock()
    tally = LagTally(settle_seconds=60, clock=clock)
    await rows.first_attempt(5)
    gap = await rows.largest_attempt_id() + 1
    await rows.first_attempt(10, attempt_id=gap + 5)  # a larger id committed first
    assert (await read(tally, rows.engine))[0] == 2
    await rows.first_attempt(1, attempt_id=gap)  # the smaller id's row lands later
    clock.now += 61
    count, total, _ = await read(tally, rows.engine)
    assert (count, total) == (3, pytest.approx(16, abs=0.01))
    assert tally.upto == gap + 5
