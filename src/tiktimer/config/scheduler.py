"""The scheduler (README "Scheduler and workers"): dispatchers, leases, retries, status polls,
pacing, and the Redis that pacing and the request limits may share."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tiktimer.config._base import GroupSettings, env


class SchedulerSettings(GroupSettings):
    # Run a dispatcher inside `tiktimer serve`
    in_process: bool = Field(True, validation_alias=env("TIKTIMER_RUN_SCHEDULER"))
    concurrency: int = Field(20, ge=1, le=1000, validation_alias=env("TIKTIMER_WORKER_CONCURRENCY"))
    poll_seconds: float = Field(
        1.0, gt=0, le=60, validation_alias=env("TIKTIMER_SCHEDULER_POLL_SECONDS")
    )
    batch_size: int = Field(25, ge=1, le=500, validation_alias=env("TIKTIMER_SCHEDULER_BATCH_SIZE"))
    lease_seconds: float = Field(
        60, ge=5, le=3600, validation_alias=env("TIKTIMER_SCHEDULER_LEASE_SECONDS")
    )
    heartbeat_seconds: float = Field(
        5, gt=0, le=300, validation_alias=env("TIKTIMER_SCHEDULER_HEARTBEAT_SECONDS")
    )
    shutdown_grace_seconds: float = Field(
        20, ge=0, le=3600, validation_alias=env("TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS")
    )
    publish_max_attempts: int = Field(
        5, ge=1, le=100, validation_alias=env("TIKTIMER_PUBLISH_MAX_ATTEMPTS")
    )
    publish_retry_base_seconds: float = Field(
        30, ge=0, le=3600, validation_alias=env("TIKTIMER_PUBLISH_RETRY_BASE_SECONDS")
    )
    publish_retry_cap_seconds: float = Field(
        1800, ge=0, le=86400, validation_alias=env("TIKTIMER_PUBLISH_RETRY_CAP_SECONDS")
    )
    status_poll_first_seconds: float = Field(
        2, gt=0, le=600, validation_alias=env("TIKTIMER_STATUS_POLL_FIRST_SECONDS")
    )
    status_poll_max_seconds: float = Field(
        30, gt=0, le=3600, validation_alias=env("TIKTIMER_STATUS_POLL_MAX_SECONDS")
    )
    status_poll_give_up_minutes: int = Field(
        30, ge=1, le=7 * 24 * 60, validation_alias=env("TIKTIMER_STATUS_POLL_GIVE_UP_MINUTES")
    )
    # How late a due post may still go out (0: however late); each post keeps its own copy
    late_publish_minutes: int = Field(
        60, ge=0, le=7 * 24 * 60, validation_alias=env("TIKTIMER_LATE_PUBLISH_MINUTES")
    )
    # The same media, caption and account within this window → 409 (0: no guard)
    duplicate_window_hours: float = Field(
        24, ge=0, le=24 * 365, validation_alias=env("TIKTIMER_DUPLICATE_WINDOW_HOURS")
    )
    # The pacing window: TikTok's sliding minute plus a margin
    rate_limit_window_seconds: float = Field(
        61, gt=0, le=3600, validation_alias=env("TIKTIMER_RATE_LIMIT_WINDOW_SECONDS")
    )
    redis_url: SecretStr | None = Field(None, validation_alias=env("TIKTIMER_REDIS_URL"))
