"""The last active admin stays one: a change that would leave no active admin is refused.

Race-safe on both databases. PostgreSQL: the active admins' rows are locked (in id order, so
two such changes cannot deadlock) before the guarded UPDATE, so two admins demoting each other
at once run one after the other and the second sees the first's change. SQLite: the guarded
UPDATE checks and writes in one statement under SQLite's single write lock, and its reads
before it hold no snapshot (the driver opens the transaction at the first write).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tiktimer.kit.time import utc_now
from tiktimer.models import User

LAST_ADMIN = (
    "This is the last active admin: make another user an admin first, "
    "or TikTimer would have no one left to administer it"
)


def removes_an_admin(user: User, is_active: bool | None, is_superuser: bool | None) -> bool:
    """Whether the change takes `user` out of the active admins."""
    if not (user.is_active and user.is_superuser):
        return False
    return is_active is False or is_superuser is False


async def update_unless_last_admin(
    session: AsyncSession, user_id: int, values: dict[str, Any]
) -> bool:
    """Apply `values` to the user unless no other active admin would remain; False if refused."""
    admins = (
        select(User.id)
        .where(User.is_superuser.is_(True), User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()  # rendered on PostgreSQL only
    )
    await session.execute(admins)
    other = aliased(User)
    another_admin = exists().where(
        and_(other.id != user_id, other.is_superuser.is_(True), other.is_active.is_(True))
    )
    statement = (
        update(User)
        .where(User.id == user_id, another_admin)
        .values(**values, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1
