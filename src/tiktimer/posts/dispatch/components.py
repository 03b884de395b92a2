"""The scheduler parts of the web process: queue, pacer, wake-ups, the in-process dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.accounts.tokens import AccountTokens
from tiktimer.config import Settings
from tiktimer.posts.dispatch.health import scheduler_health
from tiktimer.posts.dispatch.runtime import due_signal, pacer_for
from tiktimer.posts.dispatch.worker import InProcessScheduler, PlatformsFactory
from tiktimer.posts.pacing.window import SlidingWindowPacer
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.wakeup import DueSignal, Wakeup


@dataclass
class SchedulerComponents:
    settings: Settings
    queue: PostQueue
    pacer: SlidingWindowPacer
    wakeup: Wakeup
    due_signal: DueSignal
    in_process: InProcessScheduler | None = field(default=None)

    def health(self, read_engine: AsyncEngine) -> Callable[[], Awaitable[dict[str, Any]]]:
        return scheduler_health(
            read_engine,
            heartbeat_seconds=self.settings.scheduler.heartbeat_seconds,
            in_process=self.settings.scheduler.in_process,
        )

    def start_in_process(
        self,
        *,
        platforms_factory: PlatformsFactory,
        accounts: AccountTokens,
        media_gc: Callable[[], Awaitable[object]] | None = None,
        concurrency: int | None = None,
        chores: dict[str, tuple[float, Callable[[], Awaitable[object]]]] | None = None,
    ) -> None:
        """Run a dispatcher inside this process (`tiktimer serve` with TIKTIMER_RUN_SCHEDULER),
        with the housekeeping a worker does (media retention) and other `chores` (name:
        interval in seconds and job: notification deliveries, recurring series)."""
        interval = self.settings.media.gc_interval_minutes * 60.0
        housekeeping = {"media.gc": (interval, media_gc)} if media_gc else {}
        housekeeping |= chores or {}
        self.in_process = InProcessScheduler.build(
            self.settings,
            queue=self.queue,
            pacer=self.pacer,
            platforms_factory=platforms_factory,
            accounts=accounts,
            wakeup=self.wakeup,
            housekeeping=housekeeping or None,
            concurrency=concurrency,
        )
        self.in_process.start()

    async def stop_in_process(self) -> None:
        """Drain and stop the dispatcher, if one runs here (safe to call twice)."""
        in_process, self.in_process = self.in_process, None
        if in_process is not None:
            await in_process.stop()

    async def aclose(self) -> None:
        await self.stop_in_process()
        await self.pacer.aclose()


def build_scheduler(settings: Settings, engine: AsyncEngine) -> SchedulerComponents:
    queue = PostQueue(engine)
    wakeup = Wakeup()
    return SchedulerComponents(
        settings=settings,
        queue=queue,
        pacer=pacer_for(settings, queue),
        wakeup=wakeup,
        # Only an in-process dispatcher can be woken through the event; PostgreSQL
        # workers elsewhere hear the NOTIFY.
        due_signal=due_signal(
            settings.scheduler, wakeup if settings.scheduler.in_process else None
        ),
    )
