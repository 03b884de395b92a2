"""How a dispatcher runs beside its housekeeping, in `tiktimer serve` or `tiktimer worker`.

`InProcessScheduler` starts the dispatcher, the PostgreSQL listener and the periodic chores,
and stops them (drain: finish or release leases); `tiktimer.worker_process` runs one until a
signal, `tiktimer.services` starts one in the API when TIKTIMER_RUN_SCHEDULER is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

from tiktimer.accounts.tokens import AccountTokens
from tiktimer.config import Settings
from tiktimer.db.availability import database_unavailable
from tiktimer.platforms.contract import Pacer
from tiktimer.posts.dispatch.dispatcher import Dispatcher
from tiktimer.posts.dispatch.runtime import build_dispatcher, listener_for
from tiktimer.posts.machine.context import PlatformLookup
from tiktimer.posts.pacing.window import SlidingWindowPacer
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.wakeup import PgListener, Wakeup

log = logging.getLogger("tiktimer.scheduler")

PlatformsFactory = Callable[[Pacer], PlatformLookup]


async def run_periodically(
    name: str, interval_seconds: float, job: Callable[[], Awaitable[object]]
) -> None:
    """Housekeeping beside the dispatcher (media retention); safe in every process at once.

    The first run comes after a random part of the interval, so processes started together
    do not all run it together."""
    await asyncio.sleep(random.uniform(0.1, 1.0) * interval_seconds)
    while True:
        try:
            await job()
        except Exception as exc:
            if database_unavailable(exc):  # expected while the database is away: no traceback
                log.warning(
                    "scheduler.housekeeping.unavailable job=%s error=%s", name, type(exc).__name__
                )
            else:
                log.exception("scheduler.housekeeping.failed job=%s", name)
        await asyncio.sleep(interval_seconds)


class InProcessScheduler:
    """The dispatcher of `tiktimer serve` (on by default; TIKTIMER_RUN_SCHEDULER=false)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        pacer: SlidingWindowPacer,
        listener: PgListener | None,
        housekeeping: dict[str, tuple[float, Callable[[], Awaitable[object]]]] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.pacer = pacer
        self.listener = listener
        self.housekeeping = housekeeping or {}
        self._task: asyncio.Task[None] | None = None
        self._chores: list[asyncio.Task[None]] = []

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        queue: PostQueue,
        pacer: SlidingWindowPacer,
        platforms_factory: PlatformsFactory,
        accounts: AccountTokens,
        wakeup: Wakeup,
        housekeeping: dict[str, tuple[float, Callable[[], Awaitable[object]]]] | None = None,
        concurrency: int | None = None,
    ) -> InProcessScheduler:
        dispatcher = build_dispatcher(
            settings.scheduler,
            queue=queue,
            platforms=platforms_factory(pacer),
            pacer=pacer,
            accounts=accounts,
            wakeup=wakeup,
            concurrency=concurrency,
        )
        listener = listener_for(queue.engine, settings.database.url, wakeup)
        return cls(dispatcher, pacer, listener, housekeeping)

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        self._task = asyncio.create_task(self.dispatcher.run(), name="tiktimer-dispatcher")
        self._chores = [
            asyncio.create_task(run_periodically(name, interval, job))
            for name, (interval, job) in self.housekeeping.items()
        ]

    async def wait(self, stop_requested: asyncio.Event) -> None:
        """Until `stop_requested` is set or the dispatcher ends (a crash then surfaces in
        `stop`, which awaits it)."""
        assert self._task is not None, "start() first"
        stopper = asyncio.create_task(stop_requested.wait())
        try:
            await asyncio.wait({self._task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()

    async def stop(self) -> None:
        for chore in self._chores:
            chore.cancel()
        # Wait for them to unwind (a transaction rolled back, its connection returned)
        # before anything they use is closed: notifications run every poll interval.
        await asyncio.gather(*self._chores, return_exceptions=True)
        self.dispatcher.stop()
        if self._task is not None:
            grace = self.dispatcher.options.shutdown_grace_seconds
            try:
                async with asyncio.timeout(grace + 10):
                    await self._task
            except TimeoutError:
                log.warning("scheduler.stop.timeout: cancelling the dispatcher")
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self.listener is not None:
            await self.listener.aclose()
