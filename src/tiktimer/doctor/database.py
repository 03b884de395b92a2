"""The database: reachable, at this version's schema revision, and on the same clock.

Clock skew matters because leases and due times are compared with the database's rows
written by other machines; on SQLite the database is this machine, so there is no skew.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tiktimer.db import migrate
from tiktimer.db.engine import create_engine
from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.result import CheckResult, fail, ok, short_error, warn

CHECK = "database"
MAX_SKEW_SECONDS = 2.0
UNREACHABLE_FIX = "check DATABASE_URL (host, port, name, user, password) and that the server runs"
UNREADABLE_FIX = "let DATABASE_URL's user read and write the tables (grant, or make it the owner)"


async def check_database(ctx: DoctorContext) -> list[CheckResult]:
    assert ctx.settings is not None
    database = ctx.settings.database
    shown = migrate.masked(database.url)
    if database.is_sqlite and not _sqlite_file_exists(database.url):
        return [
            warn(
                CHECK,
                f"{shown} does not exist yet",
                "start `tiktimer serve`, which creates and upgrades it (or `tiktimer db upgrade`)",
            )
        ]
    ctx.engine = create_engine(database.url, one_off=True)
    async with AsyncExitStack() as stack:
        try:
            connection = await stack.enter_async_context(ctx.engine.connect())
        except Exception as exc:
            return [
                fail(
                    CHECK,
                    f"cannot reach {shown}: {short_error(exc)}",
                    UNREACHABLE_FIX,
                )
            ]
        ctx.database_ok = True
        reached = ok(CHECK, f"reachable: {shown}")
        try:
            revision = await connection.run_sync(migrate.read_revision)
        except Exception as exc:
            return [
                reached,
                fail(
                    CHECK,
                    f"cannot read the schema revision: {short_error(exc)}",
                    UNREADABLE_FIX,
                ),
            ]
    # Alembic reads every migration file to find the head: off the event loop.
    return [reached, await asyncio.to_thread(_revision_result, ctx, revision)]


def _sqlite_file_exists(url: str) -> bool:
    name = make_url(url).database
    return not name or name == ":memory:" or Path(name).exists()


def _revision_result(ctx: DoctorContext, current: str | None) -> CheckResult:
    assert ctx.settings is not None
    head = migrate.head_revision(ctx.settings.database.url)
    if current == head:
        return ok(CHECK, f"schema at {head}, this version's newest revision")
    if current is not None and not _known(ctx.settings.database.url, current):
        return fail(
            CHECK,
            f"schema at {current}, which this version does not know (newest: {head})",
            "run the TikTimer version that migrated it, or a newer one",
        )
    problem = f"schema at {current or 'nothing'}, this version needs {head}"
    if ctx.settings.database.is_sqlite:  # serve upgrades the embedded database itself
        return warn(CHECK, problem, "run `tiktimer db upgrade` (or start `tiktimer serve`)")
    return fail(CHECK, problem, "run `tiktimer db upgrade`")


def _known(url: str, revision: str) -> bool:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    return any(entry.revision == revision for entry in script.walk_revisions())


async def check_clock(ctx: DoctorContext) -> list[CheckResult]:
    check = "clock"
    if not ctx.database_ok or ctx.engine is None:
        return [warn(check, "not checked: the database is not reachable", "fix the database first")]
    assert ctx.settings is not None
    if ctx.settings.database.is_sqlite:
        return [ok(check, "SQLite: the database keeps this machine's clock")]
    before = time.time()
    async with ctx.engine.connect() as connection:
        theirs: datetime = (await connection.execute(text("SELECT now()"))).scalar_one()
    after = time.time()
    ours = datetime.fromtimestamp((before + after) / 2, UTC)
    skew = (theirs - ours).total_seconds()
    line = f"database clock {skew:+.2f} s from this machine's"
    if abs(skew) > MAX_SKEW_SECONDS:
        return [
            warn(check, line, "synchronise both machines' clocks (NTP: chrony, systemd-timesyncd)")
        ]
    return [ok(check, line)]
