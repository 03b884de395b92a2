"""The liveness probe: one trivial statement on a pooled connection, as cheap as it gets.

`SELECT 1` goes straight to the driver (`exec_driver_sql`: no compilation, no cache lookup).
The engine it runs on is chosen for the fewest trips per checkout:

- PostgreSQL: the autocommit engine. asyncpg's autocommit is a flag on SQLAlchemy's adapter
  (no round trip), so the statement is one Bind/Execute/Sync exchange once asyncpg has it
  prepared on that connection; no BEGIN before it, and the reset on return has no
  transaction to roll back. The plain engine would add BEGIN and ROLLBACK.
- SQLite: the plain engine. The autocommit option costs a hop to aiosqlite's thread to set
  the isolation level on checkout and four more to reset it on return (`isolation_level`
  and `PRAGMA read_uncommitted`); a lone SELECT opens no transaction in the driver's
  default mode, so the reset's rollback has nothing to do either way. Half the cost.

The pool never pre-pings (`create_engine` sets `pool_pre_ping=False`): a dead connection
fails this statement, which is the answer the probe is for.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.db.dialect import autocommit_is_free

PROBE_SQL = "SELECT 1"


def probe_engine(engine: AsyncEngine, read_engine: AsyncEngine) -> AsyncEngine:
    """Which of the process's two engines (plain, autocommit) the probe should use."""
    return read_engine if autocommit_is_free(engine) else engine


async def probe(engine: AsyncEngine) -> None:
    """Run the probe on `engine`; raises whatever the driver or the pool raised."""
    async with engine.connect() as connection:
        await connection.exec_driver_sql(PROBE_SQL)
