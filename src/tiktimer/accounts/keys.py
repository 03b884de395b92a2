"""Re-encrypting every stored TikTok secret under the newest key (`tiktimer keys rotate`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.db.dialect import row_lock
from tiktimer.kit.crypto import TokenCipher
from tiktimer.models import OAuthState, SocialAccount


async def rotate_keys(maker: async_sessionmaker[AsyncSession], cipher: TokenCipher) -> int:
    """Re-encrypt tokens and pending PKCE verifiers; returns how many values changed.

    Runs in one transaction: either every value moves to the new key or none does.
    """
    changed = 0
    async with maker() as session, session.begin():
        for account in await session.scalars(row_lock(select(SocialAccount))):
            for column in ("access_token_encrypted", "refresh_token_encrypted"):
                value = getattr(account, column)
                if value is not None:
                    setattr(account, column, cipher.rotate(value))
                    changed += 1
        for state in await session.scalars(select(OAuthState).where(OAuthState.used_at.is_(None))):
            state.code_verifier_encrypted = cipher.rotate(state.code_verifier_encrypted)
            changed += 1
    return changed
