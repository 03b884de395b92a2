"""Settings → scheduler parts. Read once at the edge (worker process or app lifespan)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.config import SchedulerSettings, Settings
from tiktimer.db.dialect import listens
from tiktimer.platforms import registry
from tiktimer.posts.dispatch.dispatcher import Dispatcher, DispatcherOptions, new_worker_id
from tiktimer.posts.machine.context import Accounts, MachineContext, PlatformLookup
from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy
from tiktimer.posts.pacing.redis_backend import build_pacer
from tiktimer.posts.pacing.window import RateLimits, SlidingWindowPacer
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.wakeup import DueSignal, PgListener, Wakeup

# The platforms' windows are one sliding minute (TikTok: reference §7); ours are longer.
PLATFORM_WINDOW_SECONDS = 60.0


def rate_limits(settings: Settings) -> RateLimits:
    margin = settings.scheduler.rate_limit_window_seconds - PLATFORM_WINDOW_SECONDS
    return RateLimits(
        window_seconds=settings.scheduler.rate_limit_window_seconds,
        restamp_after=max(0.0, margin / 2),
        per_bucket=registry.rate_buckets(settings),
    )


def pacer_for(settings: Settings, queue: PostQueue) -> SlidingWindowPacer:
    redis = settings.scheduler.redis_url
    redis_url = redis.get_secret_value() if redis else None
    return build_pacer(queue, rate_limits(settings), redis_url)


def dispatcher_options(
    settings: SchedulerSettings, concurrency: int | None = None
) -> DispatcherOptions:
    return DispatcherOptions(
        concurrency=concurrency or settings.concurrency,
        batch_size=settings.batch_size,
        poll_seconds=settings.poll_seconds,
        lease_seconds=settings.lease_seconds,
        heartbeat_seconds=settings.heartbeat_seconds,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


def due_signal(settings: SchedulerSettings, local: Wakeup | None) -> DueSignal:
    """What the posts service calls when a post becomes due within two poll intervals."""
    return DueSignal(horizon=timedelta(seconds=2 * settings.poll_seconds), local=local)


def build_dispatcher(
    settings: SchedulerSettings,
    *,
    queue: PostQueue,
    platforms: PlatformLookup,
    pacer: SlidingWindowPacer,
    accounts: Accounts | None,
    wakeup: Wakeup,
    concurrency: int | None = None,
    worker_id: str | None = None,
) -> Dispatcher:
    context = MachineContext(
        queue=queue,
        platforms=platforms,
        pacer=pacer,
        accounts=accounts,
        retry=RetryPolicy(
            max_attempts=settings.publish_max_attempts,
            base_seconds=settings.publish_retry_base_seconds,
            cap_seconds=settings.publish_retry_cap_seconds,
        ),
        poll=PollPolicy(
            first_seconds=settings.status_poll_first_seconds,
            max_seconds=settings.status_poll_max_seconds,
            timeout_seconds=settings.status_poll_give_up_minutes * 60.0,
        ),
        worker_id=worker_id or new_worker_id(),
    )
    return Dispatcher(context, dispatcher_options(settings, concurrency), wakeup)


def listener_for(engine: AsyncEngine, database_url: str, wakeup: Wakeup) -> PgListener | None:
    """LISTEN/NOTIFY wake-ups exist on PostgreSQL only (SQLite wakes in-process)."""
    if not listens(engine):
        return None
    return PgListener(database_url, wakeup)
