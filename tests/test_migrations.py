"""Alembic migrations are the schema: they must match the models on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tests.fixtures.databases import create_pg_database, drop_pg_database, sqlite_url
from tiktimer import models  # noqa: F401
from tiktimer.db import migrate
from tiktimer.db.base import Model


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    url = create_pg_database("tiktimer_migrations")
    try:
        yield url
    finally:
        drop_pg_database(url)


def _diff(url: str) -> list[object]:
    import asyncio

    from tiktimer.db.engine import create_engine as create_async

    async def run() -> list[object]:
        engine = create_async(url)
        try:
            async with engine.connect() as connection:

                def compare(sync_connection: object) -> list[object]:
                    context = MigrationContext.configure(
                        sync_connection,  # type: ignore[arg-type]
                        opts={"compare_type": True},
                    )
                    return list(compare_metadata(context, Model.metadata))

                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    import asyncio

    from tiktimer.db.engine import create_engine as create_async

    async def run() -> set[str]:
        engine = create_async(url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda c: inspect(c).get_table_names())
                return set(names)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_migrations_match_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert _diff(empty_database) == []


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert migrate.current_revision(empty_database) == migrate.head_revision(empty_database)
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert set(Model.metadata.tables) <= _tables(empty_database)
    assert _diff(empty_database) == []
