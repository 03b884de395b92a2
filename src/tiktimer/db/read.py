"""Autocommit connections for hot reads: no BEGIN/COMMIT round trips, no ORM unit of work.

Writes go through `SessionDep`; a read-only request needs neither a transaction nor identity
tracking, and on PostgreSQL each avoided round trip is a large share of a fast request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tiktimer.db.autocommit import autocommit_engine
from tiktimer.db.fairpool import fair_connect

__all__ = ["ReadDep", "autocommit_engine", "get_read_connection", "read_engine"]


class _ReadParts(Protocol):
    read_engine: AsyncEngine


def read_engine(request: Request) -> AsyncEngine:
    """The autocommit engine of the app serving `request` (from `app.state.services`)."""
    parts: _ReadParts = request.app.state.services
    return parts.read_engine


async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with fair_connect(read_engine(request)) as connection:
        yield connection


ReadDep = Annotated[AsyncConnection, Depends(get_read_connection, scope="function")]
