"""Redis, when `TIKTIMER_REDIS_URL` is set: request limits and pacing are shared through it."""

from __future__ import annotations

from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.result import CheckResult, fail, ok, short_error

CHECK = "redis"
TIMEOUT_SECONDS = 3.0


async def check_redis(ctx: DoctorContext) -> list[CheckResult]:
    assert ctx.settings is not None
    secret = ctx.settings.scheduler.redis_url
    if secret is None:
        return [
            ok(CHECK, "not configured: limits and pacing are kept per process or in the database")
        ]
    from redis.asyncio import Redis

    client = Redis.from_url(
        secret.get_secret_value(),
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
    )
    try:
        await client.ping()
    except Exception as exc:
        return [
            fail(
                CHECK,
                f"Redis unreachable: {short_error(exc)}",
                "check TIKTIMER_REDIS_URL (host, port, password) and that Redis runs",
            )
        ]
    finally:
        await client.aclose()
    return [ok(CHECK, "Redis answers PING")]
