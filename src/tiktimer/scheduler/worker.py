"""Where dispatchers run: `tiktimer worker` processes, or inside `tiktimer serve`.

`run_worker` is the whole life of a worker process: build its parts from settings, run the
dispatcher until SIGTERM/SIGINT, drain (finish or release leases), close everything.
`InProcessScheduler` is the same dispatcher started and stopped by the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from tiktimer.accounts.tokens import AccountTokens
from tiktimer.config import Settings
from tiktimer.db.engine import create_engine, create_sessionmaker, wait_for_database
from tiktimer.kit.crypto import TokenCipher
from tiktimer.media.components import build_media
from tiktimer.platforms.tiktok.connection import build_tiktok
from tiktimer.publishing.base import Pacer, Publisher
from tiktimer.publishing.components import build_publishing
from tiktimer.scheduler.claims import PostQueue
from tiktimer.scheduler.dispatcher import Dispatcher
from tiktimer.scheduler.pacing import SlidingWindowPacer
from tiktimer.scheduler.runtime import build_dispatcher, listener_for, pacer_for
from tiktimer.scheduler.wakeup import PgListener, Wakeup

log = logging.getLogger("tiktimer.scheduler")

PublisherFactory = Callable[[Pacer], Publisher]


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
    tiktok = build_tiktok(settings)
    tokens = AccountTokens(sessionmaker, TokenCipher(settings.token_keys), tiktok.client)
    media = build_media(settings)
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
        publisher=publishing.publisher(pacer),
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
    try:
        await dispatcher.run()
    finally:
        stopper.cancel()
        if listener is not None:
            await listener.aclose()
        await pacer.aclose()
        await tiktok.client.aclose()
        if tiktok.sandbox_app is not None:
            await tiktok.sandbox_app.state.emulator.aclose()
        await media.aclose()
        await engine.dispose()


class InProcessScheduler:
    """The dispatcher of `tiktimer serve` (on by default; TIKTIMER_RUN_SCHEDULER=false)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        pacer: SlidingWindowPacer,
        listener: PgListener | None,
    ) -> None:
        self.dispatcher = dispatcher
        self.pacer = pacer
        self.listener = listener
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        queue: PostQueue,
        pacer: SlidingWindowPacer,
        publisher_factory: PublisherFactory,
        accounts: AccountTokens,
        wakeup: Wakeup,
    ) -> InProcessScheduler:
        dispatcher = build_dispatcher(
            settings,
            queue=queue,
            publisher=publisher_factory(pacer),
            pacer=pacer,
            accounts=accounts,
            wakeup=wakeup,
        )
        return cls(dispatcher, pacer, listener_for(queue.engine, settings.database_url, wakeup))

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        self._task = asyncio.create_task(self.dispatcher.run(), name="tiktimer-dispatcher")

    async def stop(self) -> None:
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
