"""Alembic environment: async engine, URL from the caller's config or TikTimer settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tiktimer import models  # noqa: F401  (registers every table on Model.metadata)
from tiktimer.db.base import Model
from tiktimer.db.engine import create_engine

config = context.config
target_metadata = Model.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from tiktimer.config import load_settings

    return load_settings().database.url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_engine(_url(), one_off=True)  # one connection, no pool to dispose
    async with engine.connect() as async_connection:
        await async_connection.run_sync(_configure)
        await async_connection.commit()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
