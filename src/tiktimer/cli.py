"""The `tiktimer` command: serve, worker, db, users, keys, media, posts, accounts, …"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from tiktimer.cli_pause import accounts_commands
from tiktimer.cli_planning import register as register_planning
from tiktimer.config import Settings, SettingsError, load_settings
from tiktimer.config_check import misnamed_settings

app = typer.Typer(help="TikTimer: schedule TikTok posts.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys for TikTok tokens at rest.", no_args_is_help=True)
media_app = typer.Typer(help="Uploaded media.", no_args_is_help=True)
notifications_app = typer.Typer(help="Outgoing webhooks.", no_args_is_help=True)
posts_app = typer.Typer(help="Scheduled posts.", no_args_is_help=True)
_GROUPS = {"db": db_app, "users": users_app, "keys": keys_app, "media": media_app}
for _name, _group in {**_GROUPS, "notifications": notifications_app, "posts": posts_app}.items():
    app.add_typer(_group, name=_name)

T = TypeVar("T")


def settings_or_exit(**overrides: Any) -> Settings:
    """Invalid settings stop the command with one readable line naming the variable."""
    for line in misnamed_settings(os.environ):
        typer.echo(line, err=True)
    try:
        settings = load_settings(**overrides)
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        _ = settings.auth.jwt_key  # refuse to start if the key cannot be made or read
        return settings
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(factory())  # type: ignore[arg-type]


def prepare_database(settings: Settings, *, migrate: bool | None) -> None:
    """Embedded SQLite upgrades itself; PostgreSQL must be upgraded by `tiktimer db upgrade`."""
    from tiktimer.db import migrate as migrations
    from tiktimer.db.engine import DatabaseUnavailable, create_engine, wait_for_database

    async def reachable() -> None:
        engine = create_engine(settings.database.url, one_off=True)
        await wait_for_database(engine, retries=settings.database.connect_retries)

    try:
        run_async(reachable)
    except DatabaseUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    should_migrate = settings.database.is_sqlite if migrate is None else migrate
    current = migrations.current_revision(settings.database.url)
    head = migrations.head_revision(settings.database.url)
    if should_migrate and current != head:  # at head, Alembic would only log its context
        migrations.upgrade(settings.database.url)
    elif not should_migrate and current != head:
        typer.echo(
            f"error: database schema is at {current or 'nothing'}, this version needs {head}; "
            "run `tiktimer db upgrade` first",
            err=True,
        )
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes")] = 1,
    migrate: Annotated[
        bool | None, typer.Option("--migrate/--no-migrate", help="Upgrade the schema first")
    ] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log")] = True,
) -> None:
    """Run the web service (and, on the embedded setup, everything else)."""
    import uvicorn

    from tiktimer.inputs.protocol import PROTOCOL_PATH
    from tiktimer.logging import configure_logging

    # Each uvicorn worker builds its settings from the environment: pass the CLI's choices on,
    # so that URLs the service derives (sandbox, OAuth redirect) name the real port.
    if host is not None:
        os.environ["TIKTIMER_HOST"] = host
    if port is not None:
        os.environ["TIKTIMER_PORT"] = str(port)
    settings = settings_or_exit()
    configure_logging(settings.server.log_level, settings.server.log_format)
    prepare_database(settings, migrate=migrate)
    uvicorn.run(
        "tiktimer.app:create_app_from_env",
        factory=True,
        host=settings.server.host,
        port=settings.server.port,
        workers=workers,
        access_log=access_log,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        # httptools with a bounded request head (431 past TIKTIMER_MAX_HEADER_KB).
        http=PROTOCOL_PATH,
        h11_max_incomplete_event_size=settings.limits.max_header_kb * 1024,
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=1000, help="Posts in flight at once [TIKTIMER_WORKER_CONCURRENCY]"),
    ] = None,
    migrate: Annotated[
        bool | None, typer.Option("--migrate/--no-migrate", help="Upgrade the schema first")
    ] = None,
) -> None:
    """Run a dispatcher only: publish due posts until SIGTERM (then finish or hand back)."""
    from tiktimer.logging import configure_logging
    from tiktimer.metrics.worker_port import MetricsPortUnavailable
    from tiktimer.platforms.tiktok.sandbox import SandboxUnreachable
    from tiktimer.worker_process import run_worker

    settings = settings_or_exit()
    configure_logging(settings.server.log_level, settings.server.log_format)
    prepare_database(settings, migrate=migrate)
    try:
        run_async(lambda: run_worker(settings, concurrency))
    except (SandboxUnreachable, MetricsPortUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema (default: to the newest revision)."""
    from tiktimer.db import migrate

    url = _database_for_command()
    before = _revision_or_exit(url)
    migrate.upgrade(url, revision)
    _report_change(before, migrate.current_revision(url), "upgraded")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base")]) -> None:
    """Downgrade the schema to REV."""
    from tiktimer.db import migrate

    url = _database_for_command()
    before = _revision_or_exit(url)
    migrate.downgrade(url, revision)
    _report_change(before, migrate.current_revision(url), "downgraded")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one this version knows."""
    from tiktimer.db import migrate

    url = _database_for_command()
    current = _revision_or_exit(url)
    head = migrate.head_revision(url)
    state = "up to date" if current == head else "needs `tiktimer db upgrade`"
    typer.echo(f"current: {current or 'none'}  head: {head}  ({state})")


def _database_for_command() -> str:
    """The database a `db` command works on, named (password masked) before it starts."""
    from tiktimer.db import migrate

    url = settings_or_exit().database.url
    typer.echo(f"database: {migrate.masked(url)}")
    return url


def _revision_or_exit(url: str) -> str | None:
    from sqlalchemy.exc import DBAPIError

    from tiktimer.db import migrate

    try:
        return migrate.current_revision(url)
    except (DBAPIError, OSError) as exc:
        typer.echo(f"error: cannot reach the database: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from None


def _report_change(before: str | None, after: str | None, verb: str) -> None:
    if before == after:
        typer.echo(f"nothing to do: the schema is at {after or 'none'}")
    else:
        typer.echo(f"{verb}: {before or 'none'} -> {after or 'none'}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    email: Annotated[str, typer.Option("--email", help="Email address")],
    admin: Annotated[bool, typer.Option("--admin", help="Grant admin rights")] = False,
) -> None:
    """Create a user. The password is read from a prompt, or from stdin when piped."""
    from pydantic import ValidationError

    from tiktimer.users.schemas import UserCreate

    settings = settings_or_exit()
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        data = UserCreate(username=username, email=email, password=password)
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"error: {error['loc'][0]}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    prepare_database(settings, migrate=None)
    user_id = run_async(lambda: _create_user(settings, data, admin))
    typer.echo(f"created user {username} (id {user_id}{', admin' if admin else ''})")


async def _create_user(settings: Settings, data: Any, admin: bool) -> int:
    from datetime import timedelta

    from tiktimer.auth.service import AuthService
    from tiktimer.auth.tokens import AccessTokens
    from tiktimer.db.engine import create_engine, create_sessionmaker
    from tiktimer.db.read import autocommit_engine
    from tiktimer.db.session import session_scope
    from tiktimer.errors import TiktimerError
    from tiktimer.kit.passwords import PasswordHashing
    from tiktimer.users.service import UserService

    engine = create_engine(settings.database.url)
    passwords = PasswordHashing()
    try:
        access = AccessTokens(settings.auth.jwt_key, settings.auth.algorithm, timedelta(minutes=1))
        auth = AuthService(
            access, passwords, timedelta(days=1), read_engine=autocommit_engine(engine)
        )
        service = UserService(passwords, auth)
        async with session_scope(create_sessionmaker(engine)) as session:
            user = await service.register(session, data, is_superuser=admin)
            return user.id
    except TiktimerError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        passwords.close()
        await engine.dispose()


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key for TIKTIMER_TOKEN_KEYS (put it first, keep the old ones after it)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored TikTok token with the first key of TIKTIMER_TOKEN_KEYS."""
    from tiktimer.accounts.keys import rotate_keys
    from tiktimer.db.engine import create_engine, create_sessionmaker
    from tiktimer.kit.crypto import InvalidToken, TokenCipher

    settings = settings_or_exit()
    prepare_database(settings, migrate=None)

    async def run() -> int:
        engine = create_engine(settings.database.url)
        try:
            return await rotate_keys(
                create_sessionmaker(engine), TokenCipher(settings.auth.token_keys)
            )
        finally:
            await engine.dispose()

    try:
        changed = run_async(run)
    except InvalidToken:
        typer.echo(
            "error: a stored token cannot be decrypted with any key in TIKTIMER_TOKEN_KEYS; "
            "keep the old key in the list until rotation has run",
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo(f"re-encrypted {changed} stored secrets with the first key")


@media_app.command("gc")
def media_gc() -> None:
    """Delete media past retention (unused, or of long-published posts) and stale uploads."""
    from tiktimer.db.engine import create_engine, create_sessionmaker
    from tiktimer.db.read import autocommit_engine
    from tiktimer.kit.time import utc_now
    from tiktimer.media.components import build_media
    from tiktimer.media.retention import GcReport, describe

    settings = settings_or_exit()
    prepare_database(settings, migrate=None)

    async def run() -> GcReport:
        engine = create_engine(settings.database.url)
        media = build_media(settings.storage, settings.media, autocommit_engine(engine))
        try:
            return await media.gc(create_sessionmaker(engine), utc_now())
        finally:
            await media.aclose()
            await engine.dispose()

    report = run_async(run)
    for line in describe(report):
        typer.echo(line)
    if report.leaked:
        raise typer.Exit(1)


@notifications_app.command("send")
def notifications_send() -> None:
    """Route new events and send the deliveries that are due, once (workers do it always)."""
    from tiktimer.cli_notifications import send_once

    settings = settings_or_exit()
    prepare_database(settings, migrate=None)
    typer.echo(f"tried {run_async(lambda: send_once(settings))} deliveries")


@posts_app.command("import")
def posts_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The CSV file")],
    user: Annotated[str, typer.Option("--user", help="The username whose posts they are")],
    mode: Annotated[str, typer.Option(help="all: all or nothing; rows: each row alone")] = "all",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check, create nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Schedule posts from a CSV file (README "Bulk import"); exit 1 if a row has problems."""
    from tiktimer.cli_import import import_file
    from tiktimer.platforms.tiktok.sandbox import SandboxUnreachable

    settings = settings_or_exit()
    prepare_database(settings, migrate=None)
    try:
        lines, code = run_async(
            lambda: import_file(settings, file, user, mode=mode, dry_run=dry_run, as_json=as_json)
        )
    except SandboxUnreachable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for line in lines:
        typer.echo(line, err=line.startswith("error:"))
    raise typer.Exit(code)


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Check settings, database, storage, TikTok, workers, clock, Redis; exit 1 on a failure."""
    from tiktimer.doctor.command import run

    raise typer.Exit(run(as_json_output=as_json))


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8900,
) -> None:
    """Run the strict TikTok emulator on its own (admin API under /_emulator/)."""
    import uvicorn

    from tiktimer.logging import configure_logging
    from tiktimer.platforms.tiktok.sandbox import standalone_emulator_app

    configure_logging("INFO")
    uvicorn.run(standalone_emulator_app(), host=host, port=port, log_config=None)


def main() -> None:
    app()


register_planning(app, settings_or_exit, prepare_database, run_async)
app.add_typer(accounts_commands(settings_or_exit, prepare_database), name="accounts")
