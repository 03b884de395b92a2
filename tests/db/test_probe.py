"""The liveness probe is one statement and, on PostgreSQL, one message to the server."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.tcp_proxy import TcpProxy
from tiktimer.db.engine import create_engine
from tiktimer.db.probe import PROBE_SQL, probe, probe_engine
from tiktimer.db.read import autocommit_engine

CALLS = 20


async def test_the_probe_runs_one_statement_per_call(database: DatabaseUnderTest) -> None:
    engine = create_engine(database.url)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        chosen = probe_engine(engine, autocommit_engine(engine))
        for _ in range(CALLS):
            await probe(chosen)
    finally:
        await engine.dispose()
    assert statements == [PROBE_SQL] * CALLS  # no pre-ping, no BEGIN, no reset statement


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # a networked database
async def test_on_postgresql_each_probe_is_one_round_trip(database: DatabaseUnderTest) -> None:
    """Counted on the wire: what the client sends per probe once the connection is warm
    (no BEGIN, no ROLLBACK, no ping, the statement already prepared by asyncpg)."""
    url = make_url(database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    engine = create_engine(proxied, pool_size=1)
    try:
        chosen = probe_engine(engine, autocommit_engine(engine))
        await probe(chosen)  # connect, prepare
        before = proxy.sent_upstream
        for _ in range(CALLS):
            await probe(chosen)
        sent = proxy.sent_upstream - before
    finally:
        await engine.dispose()
        await proxy.stop()
    assert sent == CALLS
