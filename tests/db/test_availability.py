"""Which errors mean "the database is away" (503, retry) rather than a bug (500)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.fixtures.databases import admin_pg_url, require_postgres
from tests.fixtures.tcp_proxy import TcpProxy
from tiktimer.db.availability import database_unavailable
from tiktimer.db.engine import create_engine


def test_pool_timeouts_and_postgres_not_now_codes_are_unavailability() -> None:
    assert database_unavailable(sa_exc.TimeoutError("QueuePool limit reached"))
    for error in (
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.TooManyConnectionsError("too many clients"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InterfaceError(
            "cannot call Transaction.__aexit__(): the underlying connection is closed"
        ),
    ):
        assert database_unavailable(error), error


def test_an_error_while_handling_unavailability_is_unavailability() -> None:
    """A transaction's exit after its connection was reset raises a second error, whose
    context is the first (seen in a worker's notification chore during an outage)."""
    with pytest.raises(RuntimeError) as caught:
        _cleanup_fails_after_a_reset()
    assert caught.value.__context__ is not None
    assert database_unavailable(caught.value)
    assert not database_unavailable(RuntimeError("a bug, nothing before it"))


def _cleanup_fails_after_a_reset() -> None:
    try:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
    except asyncpg.PostgresError:
        raise RuntimeError("cleaning up failed too") from None


def test_bugs_are_not_unavailability() -> None:
    assert not database_unavailable(asyncpg.UniqueViolationError("duplicate key"))
    assert not database_unavailable(asyncpg.InterfaceError("another operation is in progress"))
    assert not database_unavailable(ConnectionRefusedError("not raised by a database driver"))
    assert not database_unavailable(ValueError("nothing to do with it"))


def test_what_a_cut_postgresql_connection_raises_is_unavailability() -> None:
    """The real errors from a PostgreSQL server behind a proxy that is cut: first the
    pooled connection that died, then a new connection that is refused."""
    require_postgres()
    asyncio.run(_cut_connections())


async def _cut_connections() -> None:
    server = make_url(admin_pg_url())
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    url = make_url(admin_pg_url()).set(host="127.0.0.1", port=proxy.port)
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        proxy.mode = "refuse"
        proxy.drop_connections()
        await asyncio.sleep(0.1)
        errors = []
        for _ in range(2):
            with pytest.raises(Exception) as caught:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            errors.append(caught.value)
        assert all(database_unavailable(e) for e in errors), [repr(e) for e in errors]
    finally:
        await engine.dispose()
        await proxy.stop()
