"""Alembic driven from code, so `tiktimer db …` and `serve` need no alembic.ini on disk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection, make_url

from tiktimer.db.engine import create_engine

VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "tiktimer:migrations")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return config


def masked(database_url: str) -> str:
    """The URL to show an operator: everything but the password."""
    return make_url(database_url).render_as_string(hide_password=True)


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    return _with_connection(database_url, read_revision)


def read_revision(connection: Connection) -> str | None:
    """The schema's revision, read from Alembic's version table.

    Every start of `serve` and `worker` asks this; a `MigrationContext` would answer too,
    but building one logs two INFO lines ("Context impl …", "Will assume …") each time.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    version = table(VERSION_TABLE, column("version_num"))
    rows = list(connection.execute(select(version.c.version_num)).scalars())
    if len(rows) > 1:  # what MigrationContext.get_current_revision refuses as well
        raise RuntimeError(f"the schema has several heads: {', '.join(rows)}")
    return rows[0] if rows else None


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def _with_connection(database_url: str, fn: Callable[[Connection], str | None]) -> str | None:
    async def run() -> str | None:
        engine = create_engine(database_url, one_off=True)
        async with engine.connect() as connection:
            return await connection.run_sync(fn)

    return asyncio.run(run())
