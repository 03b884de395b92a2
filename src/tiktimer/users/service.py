"""User registration and profile changes; services flush, the request commits.

Password changes and admin changes leave an audit event in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.audit import events as audit
from tiktimer.audit.events import Event, Outcome
from tiktimer.auth.service import AuthService
from tiktimer.errors import BadRequest, Conflict, NotFound, Unauthorized
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.models import User
from tiktimer.users.last_admin import LAST_ADMIN, removes_an_admin, update_unless_last_admin
from tiktimer.users.schemas import AdminUserUpdate, UserCreate, UserUpdate


class UserService:
    def __init__(self, passwords: PasswordHashing, auth: AuthService) -> None:
        self.passwords = passwords
        self.auth = auth

    async def register(
        self, session: AsyncSession, data: UserCreate, *, is_superuser: bool = False
    ) -> User:
        # Hash before touching the database: no pooled connection waits on the slow hash.
        hashed = await self.passwords.hash(data.password)
        await self._ensure_unique(session, username=data.username, email=str(data.email))
        user = User(
            username=data.username,
            email=str(data.email).lower(),
            hashed_password=hashed,
            timezone=data.timezone,
            is_superuser=is_superuser,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:  # lost a race with a concurrent registration
            raise BadRequest("Username or email already registered") from None
        return user

    async def get(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("User not found")
        return user

    async def update_me(
        self, session: AsyncSession, user: User, data: UserUpdate, *, address: str | None = None
    ) -> User:
        if data.email is not None and data.email.lower() != user.email:
            await self._ensure_unique(session, email=str(data.email))
            user.email = str(data.email).lower()
        if data.timezone is not None:
            user.timezone = data.timezone
        if data.password is not None:
            if not data.current_password or not await self.passwords.verify(
                user.hashed_password, data.current_password
            ):
                self._record_refused(
                    Event.password_changed, Outcome.failure, user.id, user.id, address
                )
                raise Unauthorized("Current password is incorrect")
            user.hashed_password = await self.passwords.hash(data.password)
            await self._end_sessions(session, user)
            audit.add(
                session,
                Event.password_changed,
                actor_user_id=user.id,
                subject=f"user:{user.id}",
                address=address,
            )
        await session.flush()
        return user

    async def admin_update(
        self,
        session: AsyncSession,
        user_id: int,
        data: AdminUserUpdate,
        *,
        actor_id: int | None = None,
        address: str | None = None,
    ) -> User:
        """409 for a change that would leave no active admin (race-safe, see `last_admin`)."""
        user = await self.get(session, user_id)
        changes = {
            name: value
            for name, value in (("is_active", data.is_active), ("is_superuser", data.is_superuser))
            if value is not None and value != getattr(user, name)
        }
        if removes_an_admin(user, data.is_active, data.is_superuser):
            if not await update_unless_last_admin(session, user.id, changes):
                self._record_refused(
                    Event.admin_user_updated, Outcome.blocked, actor_id, user.id, address
                )
                raise Conflict(LAST_ADMIN)
            await session.refresh(user)
        else:
            for name, value in changes.items():
                setattr(user, name, value)
        if changes.get("is_active") is False:
            await self._end_sessions(session, user)
        await session.flush()
        if changes:
            audit.add(
                session,
                Event.admin_user_updated,
                actor_user_id=actor_id,
                subject=f"user:{user.id}",
                address=address,
                detail=dict(changes),
            )
        return user

    def _record_refused(
        self,
        event: Event,
        outcome: Outcome,
        actor_id: int | None,
        user_id: int,
        address: str | None,
    ) -> None:
        """A refused change rolls back: its event goes through the audit writer instead."""
        if self.auth.audit_log is not None:
            self.auth.audit_log.record(
                event,
                outcome,
                actor_user_id=actor_id,
                subject=f"user:{user_id}",
                address=address,
            )

    async def list_all(
        self, session: AsyncSession, limit: int, offset: int
    ) -> tuple[list[User], int]:
        total = (await session.execute(select(func.count()).select_from(User))).scalar_one()
        users = (
            await session.execute(select(User).order_by(User.id).limit(limit).offset(offset))
        ).scalars()
        return list(users), total

    async def _end_sessions(self, session: AsyncSession, user: User) -> None:
        """Revoke every token; flush first so the bulk update cannot discard pending changes."""
        await session.flush()
        await self.auth.end_sessions(session, user.id)
        await session.refresh(user, ["token_version"])

    async def _ensure_unique(
        self, session: AsyncSession, *, username: str | None = None, email: str | None = None
    ) -> None:
        if username is not None:
            taken = await session.scalar(select(User.id).where(User.username == username))
            if taken is not None:
                raise BadRequest("Username already registered")
        if email is not None:
            taken = await session.scalar(select(User.id).where(User.email == email.lower()))
            if taken is not None:
                raise BadRequest("Email already registered")
