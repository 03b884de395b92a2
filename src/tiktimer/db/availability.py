"""Tell "the database is away right now" apart from bugs, so callers can answer 503.

A restarted, failing-over or overloaded database shows up as many exception types: a pooled
connection that died (`DBAPIError.connection_invalidated`), a refused or timed-out connect
(raw `OSError`/`TimeoutError` from the driver), PostgreSQL's "shutting down" / "starting
up" / "too many connections" codes, or a pool checkout that timed out.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes that mean "not now": connection exceptions, operator
# intervention (admin/crash shutdown, cannot connect now), too many connections.
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P")
UNAVAILABLE_SQLSTATES = frozenset({"53300"})
_DRIVER_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite")
_CLOSED_MESSAGES = ("connection is closed", "connection was closed")

# What may carry such an error (fast read paths use asyncpg without SQLAlchemy): exception
# handlers register these types and ask `database_unavailable` about each instance.
DATABASE_ERROR_TYPES: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached now (retrying later may work).

    An error raised while handling one that does (a transaction's exit on a connection
    that was just reset) counts too."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if _unavailable(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or _unavailable_sqlstate(error.orig)
    if isinstance(error, asyncpg.PostgresError):  # asyncpg used directly
        return _unavailable_sqlstate(error)
    if isinstance(error, asyncpg.InterfaceError):
        return any(closed in str(error) for closed in _CLOSED_MESSAGES)
    if isinstance(error, OSError):  # ConnectionError, TimeoutError: only the driver's
        return _raised_in_driver(error)
    return False


def _unavailable_sqlstate(error: BaseException | None) -> bool:
    sqlstate = str(getattr(error, "sqlstate", None) or "")
    return sqlstate in UNAVAILABLE_SQLSTATES or sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES)


def _raised_in_driver(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in _DRIVER_MODULES:
            return True
        traceback = traceback.tb_next
    return False
