"""Autocommit engines whose checkouts a cancellation cannot strand.

An engine made with `execution_options(isolation_level="AUTOCOMMIT")` switches each
connection to autocommit right after taking it from the pool (SQLAlchemy's `engine_connect`
event), and back when it returns. On aiosqlite the switch is a round trip to the driver's
thread, so it is an await inside `engine.connect()`; a task cancelled there (a dispatcher
stopping its heartbeat, a webhook sender closing, a timeout) leaves SQLAlchemy's
`Connection()` half-built: the pooled connection is checked out, owned by no one, and is
never returned. The pool is one connection short from then on, and the garbage collector
finds the connection later ("The garbage collector is trying to clean up non-checked-in
connection"). asyncpg switches without a round trip, so only SQLite needs more.

On SQLite, `autocommit_engine` hands out connections whose checkout runs in a task of its
own. A caller cancelled while that task still waits for the pool cancels it (nothing was
taken, so a timeout still ends the wait at once); a caller cancelled once the pool has handed
the connection out lets the checkout finish, hands the connection back and then takes its
cancellation, the way SQLAlchemy already protects `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")


def autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, with every checkout in autocommit mode."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    if autocommit.dialect.name != "sqlite":
        return autocommit
    pool = autocommit.sync_engine.pool  # a pool that dispose() makes keeps its listeners
    if not event.contains(pool, "checkout", _handed_out):
        event.listen(pool, "checkout", _handed_out)
    return WholeCheckoutEngine(autocommit.sync_engine)


class _Checkout:
    __slots__ = ("handed_out",)

    def __init__(self) -> None:
        self.handed_out = False


_CHECKOUT: ContextVar[_Checkout | None] = ContextVar("tiktimer_checkout", default=None)


def _handed_out(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool `checkout` listener: the pool gave the checkout under way its connection."""
    checkout = _CHECKOUT.get()
    if checkout is not None:
        checkout.handed_out = True


class WholeCheckoutConnection(AsyncConnection):
    """An `AsyncConnection` whose checkout is never abandoned half-way."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> AsyncConnection:
        checkout = _Checkout()
        token = _CHECKOUT.set(checkout)  # copied into the task's context
        try:
            starting = asyncio.ensure_future(super().start(is_ctxmanager))
        finally:
            _CHECKOUT.reset(token)
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            if not checkout.handed_out:
                starting.cancel()  # still waiting for the pool: nothing to give back
            await to_completion(self._give_back(starting))
            raise

    async def _give_back(self, starting: Awaitable[object]) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await starting  # a checkout that failed or was stopped holds nothing
        if self.sync_connection is not None:
            await self.close()


class WholeCheckoutEngine(AsyncEngine):
    """An `AsyncEngine` whose connections are `WholeCheckoutConnection`s (what its
    `execution_options()` returns is a plain engine again: wrap that with
    `autocommit_engine`)."""

    __slots__ = ()

    def connect(self) -> AsyncConnection:
        return WholeCheckoutConnection(self)


async def to_completion(work: Awaitable[T]) -> T:
    """Wait for `work` even if cancelled meanwhile; a cancellation is re-raised after it."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            if task.done():
                break
            cancelled = exc
        except BaseException:
            break  # the task's own failure: raised by result() below
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation is what the caller gets
        raise cancelled
    return task.result()
