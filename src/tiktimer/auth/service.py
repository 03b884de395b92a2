"""Login, refresh-token rotation with reuse detection, and logout."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tiktimer.auth.schemas import TokenPair
from tiktimer.auth.tokens import AccessTokens, new_refresh_token
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.kit.crypto import sha256_hex
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.kit.time import utc_now
from tiktimer.models import RefreshToken, User

BAD_CREDENTIALS = "Incorrect username or password"


class AuthService:
    def __init__(
        self,
        access: AccessTokens,
        passwords: PasswordHashing,
        refresh_lifetime: timedelta,
        *,
        read_engine: AsyncEngine,
    ) -> None:
        self.read_engine = read_engine
        self.access = access
        self.passwords = passwords
        self.refresh_lifetime = refresh_lifetime

    async def login(self, session: AsyncSession, username: str, password: str) -> TokenPair:
        """Same message and same work for an unknown user and a wrong password.

        The lookup runs on its own autocommit connection, returned to the pool before the
        slow hash: queued logins must not drain the pool that other requests need.
        """
        users = User.__table__
        async with self.read_engine.connect() as connection:
            row = (
                await connection.execute(
                    select(users.c.id, users.c.hashed_password, users.c.is_active).where(
                        (users.c.username == username) | (users.c.email == username.lower())
                    )
                )
            ).first()
        valid = await self.passwords.verify(row.hashed_password if row else None, password)
        if row is None or not valid:
            raise Unauthorized(BAD_CREDENTIALS)
        if not row.is_active:
            raise Forbidden("Inactive user")
        user = await session.get(User, row.id)
        if user is None:
            raise Unauthorized(BAD_CREDENTIALS)
        return await self._issue(session, user, family_id=str(uuid.uuid4()))

    async def refresh(self, session: AsyncSession, presented: str) -> TokenPair:
        """Rotate: the presented token is spent; presenting a spent one kills its family."""
        now = utc_now()
        token = (
            await session.execute(
                select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(presented))
            )
        ).scalar_one_or_none()
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise Unauthorized("Invalid refresh token")
        # Spend it with a guarded UPDATE so two concurrent refreshes cannot both succeed.
        spent = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            await self._revoke_family(session, token.family_id)
            await session.commit()  # the revocation must survive the 401 below
            raise Unauthorized("Refresh token reuse detected; please log in again")
        user = await session.get(User, token.user_id)
        if user is None or not user.is_active or user.token_version != token.token_version:
            raise Unauthorized("Invalid refresh token")
        return await self._issue(session, user, family_id=token.family_id)

    async def logout(self, session: AsyncSession, user_id: int) -> None:
        """Every access and refresh token issued before now stops working."""
        await session.execute(
            update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
        )
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )

    async def _issue(self, session: AsyncSession, user: User, family_id: str) -> TokenPair:
        raw = new_refresh_token()
        session.add(
            RefreshToken(
                user_id=user.id,
                token_hash=sha256_hex(raw),
                family_id=family_id,
                token_version=user.token_version,
                expires_at=utc_now() + self.refresh_lifetime,
            )
        )
        await session.flush()
        return TokenPair(
            access_token=self.access.issue(user.id, user.token_version),
            refresh_token=raw,
            expires_in=int(self.access.lifetime.total_seconds()),
        )

    async def _revoke_family(self, session: AsyncSession, family_id: str) -> None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
