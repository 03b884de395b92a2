"""`tiktimer accounts pause|resume ID`: the API's pause, for whoever owns the account.

The commands are built with the `tiktimer` command's own settings and schema checks
(handed in by `cli`, which this module does not import).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

import typer

from tiktimer.config import Settings

AccountArgument = Annotated[int, typer.Argument(help="The account's id")]


async def set_paused(settings: Settings, account_id: int, *, paused: bool) -> bool:
    """Pause or resume the account (resuming applies the late-publish policy); False when
    there is no such account."""
    from tiktimer.db.engine import create_engine, create_sessionmaker
    from tiktimer.db.session import session_scope
    from tiktimer.errors import NotFound
    from tiktimer.kit.time import utc_now
    from tiktimer.posts.pausing import set_paused_by_operator

    engine = create_engine(settings.database.url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await set_paused_by_operator(session, account_id, utc_now(), paused=paused)
    except NotFound:
        return False
    finally:
        await engine.dispose()
    return True


def accounts_commands(
    settings_or_exit: Callable[[], Settings],
    prepare_database: Callable[..., None],
) -> typer.Typer:
    accounts = typer.Typer(help="Connected TikTok accounts.", no_args_is_help=True)

    def run(account_id: int, *, paused: bool) -> None:
        settings = settings_or_exit()
        prepare_database(settings, migrate=None)
        if not asyncio.run(set_paused(settings, account_id, paused=paused)):
            typer.echo(f"error: no account {account_id}", err=True)
            raise typer.Exit(1)
        typer.echo(f"account {account_id} {'paused' if paused else 'resumed'}")

    @accounts.command("pause")
    def pause(account_id: AccountArgument) -> None:
        """Hold every post of an account: its due posts wait, nothing is lost."""
        run(account_id, paused=True)

    @accounts.command("resume")
    def resume(account_id: AccountArgument) -> None:
        """Publish an account's posts again (due longer ago than their window: missed)."""
        run(account_id, paused=False)

    return accounts
