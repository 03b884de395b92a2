"""Guarded writes: one `UPDATE … WHERE <guard>`, and whether it changed the row it aimed at.

Status changes race (a worker settles while the user cancels; two admins demote each other):
the guard in the WHERE clause decides, in the database, which side wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tiktimer.kit.time import utc_now

Executor = AsyncSession | AsyncConnection


async def update_one(
    executor: Executor,
    model: Any,
    row_id: int,
    guard: ColumnElement[bool],
    values: Mapping[str, Any],
) -> bool:
    """Apply `values` (and a fresh `updated_at`) to row `row_id` of `model` if `guard` holds."""
    statement = (
        update(model)
        .where(model.id == row_id, guard)
        .values(**values, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await executor.execute(statement))
    return result.rowcount == 1
