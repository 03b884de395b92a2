"""`tiktimer worker` with a count of its database round trips, for bench/dispatch.py.

Counts every statement the worker sends through asyncpg (SQLAlchemy's prepared statements,
the prebuilt statements' direct calls, BEGIN/COMMIT): each is one round trip. SIGUSR1 sets
the count to zero; SIGUSR2 writes it to `$TIKTIMER_BENCH_COUNTS.<pid>`. Statement-cache
misses (a Parse round trip) and type introspection are not counted: both happen once per
connection and statement, not per post. The dump also holds the count per statement (its
first line, shortened), the most frequent first, to show where the round trips go.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

COUNTS = {"round_trips": 0}
STATEMENTS: Counter[str] = Counter()


def _note(query: object) -> None:
    COUNTS["round_trips"] += 1
    text = " ".join(str(query).split())
    STATEMENTS[text[:110]] += 1


def _count_connection(function: Any) -> Any:
    async def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        _note(query)
        return await function(self, query, *args, **kwargs)

    return counted


def _count_prepared(function: Any) -> Any:
    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        _note(getattr(self, "_query", "prepared statement"))
        return await function(self, *args, **kwargs)

    return counted


def _count_simple_queries(function: Any) -> Any:
    """`Connection.execute` without arguments is one simple query; with arguments it goes
    through `_do_execute`, counted there."""

    async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:
            _note(query)
        return await function(self, query, *args, **kwargs)

    return counted


def install() -> None:
    import asyncpg.connection  # type: ignore[import-untyped]
    import asyncpg.prepared_stmt  # type: ignore[import-untyped]

    connection = asyncpg.connection.Connection
    connection._do_execute = _count_connection(connection._do_execute)
    connection.execute = _count_simple_queries(connection.execute)
    prepared = asyncpg.prepared_stmt.PreparedStatement
    name = "_PreparedStatement__do_execute"
    setattr(prepared, name, _count_prepared(getattr(prepared, name)))
    out = os.environ["TIKTIMER_BENCH_COUNTS"]

    def reset(*_: Any) -> None:
        COUNTS["round_trips"] = 0
        STATEMENTS.clear()

    def dump(*_: Any) -> None:
        top = STATEMENTS.most_common(40)
        Path(f"{out}.{os.getpid()}.statements.json").write_text(json.dumps(top, indent=1))
        Path(f"{out}.{os.getpid()}").write_text(str(COUNTS["round_trips"]))

    signal.signal(signal.SIGUSR1, reset)
    signal.signal(signal.SIGUSR2, dump)


def run_worker(arguments: list[str]) -> None:
    install()
    from tiktimer.cli import main

    sys.argv = ["tiktimer", *arguments]
    main()
