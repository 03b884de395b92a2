"""`tiktimer series …`, `tiktimer queue …`, `tiktimer calendar …`: planning from the shell.

`cli.py` hands in its helpers (`register`), so this module needs nothing from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import Principal
from tiktimer.config import Settings
from tiktimer.db.engine import create_engine, create_sessionmaker
from tiktimer.db.session import session_scope
from tiktimer.kit.time import utc_now
from tiktimer.models import SocialAccount, User
from tiktimer.planning import feed
from tiktimer.planning import queue as queues
from tiktimer.planning.materialise import materialiser_for
from tiktimer.planning.wallclock import WEEKDAYS, format_minute, slot_times
from tiktimer.posts.service import PostService

Job = Callable[[AsyncSession], Awaitable[Any]]


@dataclass(frozen=True)
class Helpers:
    """What `cli.py` shares with its commands."""

    settings_or_exit: Callable[[], Settings]
    prepare_database: Callable[..., None]
    run_async: Callable[[Callable[[], Awaitable[Any]]], Any]

    def settings(self) -> Settings:
        settings = self.settings_or_exit()
        self.prepare_database(settings, migrate=None)
        return settings

    def in_session(self, job: Job) -> Any:
        settings = self.settings()

        async def run() -> Any:
            engine = create_engine(settings.database.url)
            try:
                async with session_scope(create_sessionmaker(engine)) as session:
                    return await job(session)
            finally:
                await engine.dispose()

        return self.run_async(run)


def register(
    app: typer.Typer,
    settings_or_exit: Callable[[], Settings],
    prepare_database: Callable[..., None],
    run_async: Callable[[Callable[[], Awaitable[Any]]], Any],
) -> None:
    helpers = Helpers(settings_or_exit, prepare_database, run_async)
    app.add_typer(_series_app(helpers), name="series")
    app.add_typer(_queue_app(helpers), name="queue")
    app.add_typer(_calendar_app(helpers), name="calendar")


def _series_app(helpers: Helpers) -> typer.Typer:
    series_app = typer.Typer(help="Recurring posts.", no_args_is_help=True)

    @series_app.command("materialize")
    def series_materialize() -> None:
        """Make the coming occurrences of every active series into posts now (the
        workers do it every TIKTIMER_SERIES_INTERVAL_MINUTES)."""
        settings = helpers.settings()

        async def run() -> int:
            engine = create_engine(settings.database.url)
            try:
                made = materialiser_for(settings, None)
                return await made.all(create_sessionmaker(engine), utc_now())
            finally:
                await engine.dispose()

        typer.echo(f"created {helpers.run_async(run)} posts")

    return series_app


def _queue_app(helpers: Helpers) -> typer.Typer:
    queue_app = typer.Typer(help="Posting queues (weekly slots per account).", no_args_is_help=True)

    @queue_app.command("show")
    def queue_show(
        account_id: Annotated[int, typer.Argument(help="The account's id")],
        days: Annotated[int, typer.Option(help="How many days ahead")] = 14,
    ) -> None:
        """The account's slots of the coming days, each with its post."""
        for line in helpers.in_session(lambda session: _queue_lines(session, account_id, days)):
            typer.echo(line)

    @queue_app.command("reflow")
    def queue_reflow(account_id: Annotated[int, typer.Argument(help="The account's id")]) -> None:
        """Move the queued posts, in order, into the first free slots."""

        async def job(session: AsyncSession) -> int:
            owner = await _owner(session, account_id)
            return await queues.reflow(session, PostService(), owner, account_id, utc_now())

        typer.echo(f"moved {helpers.in_session(job)} posts")

    return queue_app


def _calendar_app(helpers: Helpers) -> typer.Typer:
    calendar_app = typer.Typer(help="Private calendar feeds.", no_args_is_help=True)

    @calendar_app.command("revoke")
    def calendar_revoke(username: Annotated[str, typer.Argument()]) -> None:
        """Revoke a user's calendar feed URL (a leaked link stops working)."""

        async def job(session: AsyncSession) -> bool:
            user_id = await session.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                typer.echo(f"error: no user {username!r}", err=True)
                raise typer.Exit(1)
            return await feed.revoke(session, user_id)

        typer.echo("revoked" if helpers.in_session(job) else "no feed to revoke")

    return calendar_app


async def _owner(session: AsyncSession, account_id: int) -> Principal:
    row = (
        await session.execute(
            select(User.id, User.username, User.timezone)
            .join(SocialAccount, SocialAccount.user_id == User.id)
            .where(SocialAccount.id == account_id)
        )
    ).first()
    if row is None:
        typer.echo(f"error: no account {account_id}", err=True)
        raise typer.Exit(1)
    return Principal(id=row[0], username=row[1], is_superuser=False, timezone=row[2])


async def _queue_lines(session: AsyncSession, account_id: int, days: int) -> list[str]:
    owner = await _owner(session, account_id)
    now = utc_now()
    state = await queues.state_of(session, owner, account_id, now, lock=False)
    slots = ", ".join(f"{WEEKDAYS[d]} {format_minute(m)}" for d, m in state.slots) or "none"
    lines = [f"zone: {state.tz.key}  slots: {slots}"]
    taken = dict((at, pid) for pid, at in state.movable)
    for at in slot_times(state.slots, state.tz, now, 500, days):
        post = taken.get(at)
        held = "taken" if at in state.taken else "free"
        lines.append(
            f"{at.astimezone(state.tz):%a %Y-%m-%d %H:%M}  " + (f"post {post}" if post else held)
        )
    return lines
