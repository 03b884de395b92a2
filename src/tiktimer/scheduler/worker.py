"""Where dispatchers run: `tiktimer worker` processes, or inside `tiktimer serve`.

`run_worker` is the whole life of a worker process: build its parts from settings, run the
dispatcher until SIGTERM/SIGINT, drain (finish or release leases), close everything.
`InProcessScheduler` is the same dispatcher started and stopped by the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Awaitable, Callable

from tiktimer.accounts.tokens import AccountTokens
from tiktimer.config import Settings
from tiktimer.db.engine import create_engine, create_sessionmaker, wait_for_database
from tiktimer.db.read import autocommit_engine
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.time import utc_now
from tiktimer.media.components import build_media
from tiktimer.platforms.contract import Pacer
from tiktimer.platforms.tiktok.connection import build_tiktok
from tiktimer.platforms.tiktok.sandbox import start_sandbox
from tiktimer.publishing.components import build_publishing
from tiktimer.scheduler.dispatcher import Dispatcher
from tiktimer.scheduler.machine.context import PlatformLookup
from tiktimer.scheduler.pacing.window import SlidingWindowPacer
from tiktimer.scheduler.queue.leases import PostQueue
from tiktimer.scheduler.runtime import build_dispatcher, listener_for, pacer_for
from tiktimer.scheduler.wakeup import PgListener, Wakeup

log = logging.getLogger("tiktimer.scheduler")

PlatformsFactory = Callable[[Pacer], PlatformLookup]


async def run_worker(settings: Settings, concurrency: int | None = None) -> None:
    """A dedicated worker process: dispatch until SIGTERM, then shut down gracefully."""
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_requested.set)
    try:
        await _work(settings, concurrency, stop_requested)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _work(settings: Settings, concurrency: int | None, stop_requested: asyncio.Event) -> None:
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, application_name="tiktimer-worker"
    )
    await wait_for_database(engine, retries=settings.db_connect_retries)
    sessionmaker = create_sessionmaker(engine)
    tiktok = build_tiktok(settings, deliver_webhooks=False)  # the API processes deliver them
    if tiktok.sandbox is not None:
        try:
            await start_sandbox(tiktok.sandbox, role="worker")
        except BaseException:
            await tiktok.client.aclose()
            await tiktok.sandbox.emulator.aclose()
            await engine.dispose()
            raise
    tokens = AccountTokens(sessionmaker, TokenCipher(settings.token_keys), tiktok.client)
    media = build_media(settings, autocommit_engine(engine))
    queue = PostQueue(engine)
    pacer = pacer_for(settings, queue)
    publishing = build_publishing(
        settings,
        sessionmaker=sessionmaker,
        client=tiktok.client,
        tokens=tokens,
        storage=media.storage,
        pacer=pacer,
    )
    wakeup = Wakeup()
    dispatcher = build_dispatcher(
        settings,
        queue=queue,
        platforms=publishing.platforms(pacer),
        pacer=pacer,
        accounts=tokens,
        wakeup=wakeup,
        concurrency=concurrency,
    )
    listener = listener_for(engine, settings.database_url, wakeup)
    if listener is not None:
        listener.start()

    async def stop_on_signal() -> None:
        await stop_requested.wait()
        dispatcher.stop()

    stopper = asyncio.create_task(stop_on_signal())
    gc = asyncio.create_task(
        run_periodically(
            "media.gc",
            settings.media_gc_interval_minutes * 60.0,
            lambda: media.gc(sessionmaker, utc_now()),
        )
    )
    try:
        await dispatcher.run()
    finally:
        stopper.cancel()
        gc.cancel()
        if listener is not None:
            await listener.aclose()
        await pacer.aclose()
        await tiktok.client.aclose()
        if tiktok.sandbox_app is not None:
            await tiktok.sandbox_app.state.emulator.aclose()
        await media.aclose()
        await engine.dispose()


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
        except Exception:
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
    ) -> InProcessScheduler:
        dispatcher = build_dispatcher(
            settings,
            queue=queue,
            platforms=platforms_factory(pacer),
            pacer=pacer,
            accounts=accounts,
            wakeup=wakeup,
        )
        listener = listener_for(queue.engine, settings.database_url, wakeup)
        return cls(dispatcher, pacer, listener, housekeeping)

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        self._task = asyncio.create_task(self.dispatcher.run(), name="tiktimer-dispatcher")
        self._chores = [
            asyncio.create_task(run_periodically(name, interval, job))
            for name, (interval, job) in self.housekeeping.items()
        ]

    async def stop(self) -> None:
        for chore in self._chores:
            chore.cancel()
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
