"""Pooled connections handed out in arrival order, by a gate in front of the pool.

SQLAlchemy's asyncio pool lets a newcomer take a connection that was just returned before
the longest waiter wakes up; a waiter that loses that race goes back to the end of the line.
Under a full pool a few unlucky requests lose it again and again: the median stays short
while the 99th percentile grows by an order of magnitude. A request's direct connections
(`fair_connect`) therefore first pass a FIFO gate with as many permits as the pool has
connections (asyncio's semaphore wakes its waiters in order and lets nobody overtake them),
so at the pool itself a connection is free and nobody waits there.

Sessions (`FairSession`, `async_sessionmaker`'s `class_`) join the same line before their
first statement. Only public SQLAlchemy and asyncio APIs are used: the pool class, its size
and timeout, and the session's public methods. Other callers of `engine.connect()` check out
directly, in SQLAlchemy's own order; they only make the lined-up callers wait at the pool a
little more often.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import Pool, QueuePool


class CheckoutGate:
    """As many permits as the pool has connections, granted first come, first served."""

    def __init__(self, permits: int, patience: float) -> None:
        self.patience = patience
        self._permits = asyncio.Semaphore(permits)

    async def enter(self) -> None:
        if not self._permits.locked():  # free and nobody waiting: no timer, no suspension
            await self._permits.acquire()
            return
        try:
            async with asyncio.timeout(self.patience):
                await self._permits.acquire()
        except TimeoutError:
            raise PoolTimeout(
                f"no connection free after {self.patience:.1f} s in the fair checkout line"
            ) from None

    def leave(self) -> None:
        self._permits.release()


PENDING_CHANGES = object()
"""What a flush or commit with new, changed or deleted objects runs: writes."""

_GATES: weakref.WeakKeyDictionary[Pool, CheckoutGate] = weakref.WeakKeyDictionary()


def checkout_gate(engine: AsyncEngine) -> CheckoutGate | None:
    """The gate of the engine's pool, if it is a bounded `QueuePool` (made on first use, so
    a pool that `dispose()` replaced gets one too)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return None
    gate = _GATES.get(pool)
    if gate is None:
        gate = _GATES[pool] = CheckoutGate(pool.size(), pool.timeout())
    return gate


@asynccontextmanager
async def fair_connect(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`engine.connect()`, after the callers that asked before this one."""
    gate = checkout_gate(engine)
    if gate is None:
        async with engine.connect() as connection:
            yield connection
        return
    await gate.enter()
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        gate.leave()


class FairSession(AsyncSession):
    """An `AsyncSession` that joins its pool's checkout line before its first statement.

    A session checks a connection out at its first statement and returns it when its
    transaction ends; the permit is held over the same span. Statements that reach the
    database some other way (lazy loads, `session.begin()` blocks) check out unlined.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bind = self.bind
        self._gate = checkout_gate(bind) if isinstance(bind, AsyncEngine) else None
        self._in_line = False

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        await self._before(statement)
        return await super().execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        await self._before(statement)
        return await super().scalar(statement, *args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        await self._before(None)  # a read by primary key
        return await super().get(*args, **kwargs)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self._has_changes():
            await self._before(PENDING_CHANGES)
        await super().flush(objects)

    async def commit(self) -> None:
        if self._has_changes():
            await self._before(PENDING_CHANGES)
        try:
            await super().commit()
        finally:
            self._after()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._after()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._after()

    def _has_changes(self) -> bool:
        return bool(self.new or self.deleted or self.dirty)

    async def _before(self, statement: object | None) -> None:
        """Called before anything that may check out a connection.

        `statement`: what runs; None for a read by primary key, `PENDING_CHANGES` for a flush.
        """
        if self._gate is not None and not self._in_line:
            await self._gate.enter()
            self._in_line = True

    def _after(self) -> None:
        """Called once the session's transaction, and with it its checkout, is over."""
        if self._in_line and self._gate is not None:
            self._in_line = False
            self._gate.leave()
