"""The checks, in the order they run and print; later ones read what earlier ones found.

Configuration comes first: without settings nothing else can run. The database check
opens the engine the clock and worker checks then use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from tiktimer.doctor.configuration import check_configuration
from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.database import check_clock, check_database
from tiktimer.doctor.redis_check import check_redis
from tiktimer.doctor.result import CheckResult, Status, fail, short_error
from tiktimer.doctor.storage import check_storage
from tiktimer.doctor.tiktok import check_redirect, check_tiktok
from tiktimer.doctor.workers import check_workers

Check = Callable[[DoctorContext], Awaitable[list[CheckResult]]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("configuration", check_configuration),
    ("database", check_database),
    ("clock", check_clock),
    ("storage", check_storage),
    ("tiktok", check_tiktok),
    ("redirect", check_redirect),
    ("workers", check_workers),
    ("redis", check_redis),
)


async def run_checks(
    environ: Mapping[str, str], env_file: Path | None = Path(".env")
) -> list[CheckResult]:
    """Every check's results, in registry order; a check that crashes is a fail, not a crash."""
    ctx = DoctorContext(environ=environ, env_file=env_file)
    results: list[CheckResult] = []
    try:
        for name, check in CHECKS:
            try:
                found = await check(ctx)
            except Exception as exc:
                found = [fail(name, f"the check itself failed: {short_error(exc)}", "report this")]
            results.extend(found)
            if name == "configuration" and any(r.status is Status.fail for r in found):
                break  # no settings: nothing else can be checked
    finally:
        if ctx.engine is not None:
            await ctx.engine.dispose()
    return results
