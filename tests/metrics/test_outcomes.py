"""`metrics.outcomes.OutcomeTally`: always the counts of every finished attempt, while
folding settled ones; an attempt running when folded is counted once, when it finishes."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.dialect import ids_only_grow
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.metrics.cluster import Tallies
from tiktimer.metrics.outcomes import OutcomeTally
from tiktimer.metrics.settling import SETTLE_SECONDS
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
    post_ids: list[int] = field(default_factory=list)

    async def attempt(self, outcome: str, code: str | None = None) -> int:
        async with self.engine.begin() as connection:
            post_id = (
                await connection.execute(
                    insert(Post).values(user_id=self.user_id, scheduled_time=utc_now())
                    .returning(Post.id)
                )
            ).scalar_one()  # fmt: skip
            self.post_ids.append(post_id)
            return int(
                (
                    await connection.execute(
                        insert(PostAttempt).values(post_id=post_id, number=1, outcome=outcome,
                                                   error_code=code).returning(PostAttempt.id)
                    )
                ).scalar_one()
            )  # fmt: skip

    async def finish(self, attempt_id: int, outcome: str, code: str | None = None) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(PostAttempt).where(PostAttempt.id == attempt_id)
                .values(outcome=outcome, error_code=code)
            )  # fmt: skip

    async def delete_post_of(self, attempt_id: int) -> None:
        async with self.engine.begin() as connection:
            post_id = (
                await connection.execute(
                    select(PostAttempt.post_id).where(PostAttempt.id == attempt_id)
                )
            ).scalar_one()
            await connection.execute(delete(PostAttempt).where(PostAttempt.post_id == post_id))
            await connection.execute(delete(Post).where(Post.id == post_id))

    async def every_finished(self) -> Counter[tuple[str, str, str | None]]:
        """The plain count over the whole table: what the tally must always equal."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(Post.platform, PostAttempt.outcome, PostAttempt.error_code, func.count())
                .join(Post, Post.id == PostAttempt.post_id)
                .where(PostAttempt.outcome != "running", Post.user_id == self.user_id)
                .group_by(Post.platform, PostAttempt.outcome, PostAttempt.error_code)
            )  # fmt: skip
            return Counter({(p, o, c): int(n) for p, o, c, n in rows})


@pytest.fixture
async def rows(database: DatabaseUnderTest) -> AsyncIterator[Rows]:
    engine = create_engine(database.url)
    name = f"outcomes-{secrets.token_hex(4)}"
    async with engine.begin() as connection:
        # Alone in the table, so the tally's counts are this test's rows.
        await connection.execute(delete(PostAttempt))
        user_id = (
            await connection.execute(
                insert(User).values(username=name, email=f"{name}@example.com",
                                    hashed_password="-").returning(User.id)
            )
        ).scalar_one()  # fmt: skip
    made = Rows(engine, user_id)
    try:
        yield made
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(PostAttempt))
            await connection.execute(delete(Post).where(Post.user_id == user_id))
            await connection.execute(delete(User).where(User.id == user_id))
        await engine.dispose()


async def read(tally: OutcomeTally, engine: AsyncEngine) -> Counter[tuple[str, str, str | None]]:
    async with engine.connect() as connection:
        return +(await tally.read(connection))


async def test_the_tally_always_equals_counting_every_attempt(rows: Rows) -> None:
    clock = Clock()
    tally = OutcomeTally(settle_seconds=60, clock=clock)
    await rows.attempt("published")
    await rows.attempt("failed", "spam_risk_too_many_posts")
    in_flight = await rows.attempt("running")
    doomed = await rows.attempt("running")
    assert await read(tally, rows.engine) == await rows.every_finished()

    clock.now += 61  # everything so far settles; two attempts are still running
    assert await read(tally, rows.engine) == await rows.every_finished()
    assert tally.upto == doomed
    assert tally.pending == {in_flight, doomed}
    assert sum(tally.folded.values()) == 2

    await rows.finish(in_flight, "published")
    later = await rows.attempt("retry", "rate_limit_exceeded")
    await rows.delete_post_of(doomed)
    expected = await rows.every_finished()
    assert await read(tally, rows.engine) == expected  # the finished pending one, once
    assert expected[("tiktok", "published", None)] == 2

    clock.now += 61
    assert await read(tally, rows.engine) == await rows.every_finished()
    assert tally.pending == set()  # folded when it finished; dropped when its post went
    assert tally.upto == later
    assert await read(tally, rows.engine) == await rows.every_finished()


async def test_a_reused_id_is_still_counted(rows: Rows) -> None:
    """SQLite hands the id of a deleted newest row out again: there, nothing is folded."""
    clock = Clock()
    tallies = Tallies.for_engine(rows.engine, clock)
    await rows.attempt("published")
    newest = await rows.attempt("failed", "spam_risk_too_many_posts")
    assert await read(tallies.outcomes, rows.engine) == await rows.every_finished()
    clock.now += SETTLE_SECONDS + 1
    assert await read(tallies.outcomes, rows.engine) == await rows.every_finished()
    clock.now += SETTLE_SECONDS + 1
    await rows.delete_post_of(newest)
    again = await rows.attempt("retry", "rate_limit_exceeded")
    assert (again == newest) is (not ids_only_grow(rows.engine))
    clock.now += SETTLE_SECONDS + 1
    counted = await read(tallies.outcomes, rows.engine)
    assert counted[("tiktok", "retry", "rate_limit_exceeded")] == 1
    expected = await rows.every_finished()
    if ids_only_grow(rows.engine):  # folded before its post went: counted for good
        expected[("tiktok", "failed", "spam_risk_too_many_posts")] += 1
    assert counted == expected
