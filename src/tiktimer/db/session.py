"""One session and one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class _SessionParts(Protocol):
    sessionmaker: async_sessionmaker[AsyncSession]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Commit when the endpoint returns, roll back when it raises.

    Function scope makes FastAPI finish this dependency before sending the response, so a
    failed commit is reported to the client instead of being lost after a 2xx.
    """
    parts: _SessionParts = request.app.state.services
    async with session_scope(parts.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


@asynccontextmanager
async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The worker's and CLI's unit of work: commit on success, roll back on error."""
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
