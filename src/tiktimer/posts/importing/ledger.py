"""The imported rows' fingerprints: which rows of a user's files already became posts."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import ImportedRow

# The IN list is sent in slices: 1000 fingerprints stay well under every driver's limits.
_SLICE = 500


async def known(session: AsyncSession, user_id: int, fingerprints: Collection[str]) -> set[str]:
    """The fingerprints among `fingerprints` that the user has imported before."""
    wanted = list(fingerprints)
    found: set[str] = set()
    for start in range(0, len(wanted), _SLICE):
        found.update(
            (
                await session.scalars(
                    select(ImportedRow.fingerprint).where(
                        ImportedRow.user_id == user_id,
                        ImportedRow.fingerprint.in_(wanted[start : start + _SLICE]),
                    )
                )
            ).all()
        )
    return found


async def record(session: AsyncSession, user_id: int, fingerprint: str, post_id: int) -> None:
    """Remember the row that became `post_id`. A concurrent import of the same row loses on
    the unique constraint (IntegrityError): its transaction, post included, is rolled back."""
    await session.execute(
        insert(ImportedRow).values(user_id=user_id, fingerprint=fingerprint, post_id=post_id)
    )
