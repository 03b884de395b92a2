"""The last active admin stays one: a change that would leave no active admin is refused.

Race-safe on both databases. PostgreSQL: the active admins' rows are locked (in id order, so
two such changes cannot deadlock) before the guarded UPDATE, so two admins demoting each other
at once run one after the other and the second sees the first's change. SQLite: the guarded
UPDATE checks and writes in one statement under SQLite's single write lock, and its reads
before it hold no snapshot (the driver opens the transaction at the first write).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tiktimer.db.dialect import row_lock
from tiktimer.db.guarded import update_one
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
    admins = row_lock(
        select(User.id)
        .where(User.is_superuser.is_(True), User.is_active.is_(True))
        .order_by(User.id)
    )
    await session.execute(admins)
    other = aliased(User)
    another_admin = exists().where(
        and_(other.id != user_id, other.is_superuser.is_(True), other.is_active.is_(True))
    )
    return await update_one(session, User, user_id, another_admin, values)
