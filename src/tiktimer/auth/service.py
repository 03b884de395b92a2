"""Login, refresh-token rotation with reuse detection, and logout; each leaves an audit event."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tiktimer.audit import events as audit
from tiktimer.audit.events import Event, Outcome
from tiktimer.audit.writer import AuditLog
from tiktimer.auth.ratelimits import (
    AccountPaused,
    Admission,
    CredentialLimits,
    LoginPriority,
    account_key,
)
from tiktimer.auth.schemas import TokenPair
from tiktimer.auth.tokens import AccessTokens, new_refresh_token
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.kit.crypto import sha256_hex
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.kit.priority import PriorityGate
from tiktimer.kit.time import utc_now
from tiktimer.models import RefreshToken, User

log = logging.getLogger("tiktimer.auth")

BAD_CREDENTIALS = "Incorrect username or password"


def _subject(user_id: int | None) -> str | None:
    return None if user_id is None else f"user:{user_id}"


class AuthService:
    def __init__(
        self,
        access: AccessTokens,
        passwords: PasswordHashing,
        refresh_lifetime: timedelta,
        *,
        read_engine: AsyncEngine,
        audit_log: AuditLog | None = None,
    ) -> None:
        self.read_engine = read_engine
        self.audit_log = audit_log
        # Logins take turns at the hash threads, known addresses first (see auth.ratelimits).
        self.hash_turns = PriorityGate(passwords.threads, priorities=len(LoginPriority))
        self.access = access
        self.passwords = passwords
        self.refresh_lifetime = refresh_lifetime

    async def login(
        self,
        session: AsyncSession,
        username: str,
        password: str,
        *,
        limits: CredentialLimits | None = None,
        address: str | None = None,
    ) -> TokenPair:
        """Same message and same work for an unknown user and a wrong password.

        The lookup runs on its own autocommit connection, returned to the pool before the
        slow hash: queued logins must not drain the pool that other requests need. With
        `limits`, the account's limits are checked between the lookup and the hash.
        """
        row = await self._credentials_of(username)
        user_id: int | None = row.id if row else None
        account = account_key(user_id, username)
        admission = await self._admit(limits, address, account, user_id)
        async with self.hash_turns.turn(admission.priority):
            valid = await self.passwords.verify(row.hashed_password if row else None, password)
        if row is None or not valid:
            await self._login_failed(limits, admission, account, user_id, address)
            raise Unauthorized(BAD_CREDENTIALS)
        if limits is not None:
            await limits.login_succeeded(address or "unknown", account)
        if not row.is_active:
            self._record(Event.login, Outcome.failure, user_id, address, reason="inactive")
            raise Forbidden("Inactive user")
        return await self._signed_in(session, row.id, address)

    async def _credentials_of(self, username: str) -> Row[int, str, bool] | None:
        """Id, hash and active flag of the user named (or mailed) `username`, if any."""
        users = User.__table__
        async with self.read_engine.connect() as connection:
            result = await connection.execute(
                select(users.c.id, users.c.hashed_password, users.c.is_active).where(
                    (users.c.username == username) | (users.c.email == username.lower())
                )
            )
            return result.first()

    async def _admit(
        self,
        limits: CredentialLimits | None,
        address: str | None,
        account: str,
        user_id: int | None,
    ) -> Admission:
        """The login's place in the hashing queue; AccountPaused past the account's limits."""
        if limits is None:
            return Admission(LoginPriority.new_address, counted=False)
        try:
            return await limits.admit_login(address or "unknown", account)
        except AccountPaused as paused:
            if paused.started:
                self._record_lockout(limits, user_id)
            raise

    async def _signed_in(
        self, session: AsyncSession, user_id: int, address: str | None
    ) -> TokenPair:
        """A new token family for the verified user, and the audit row of the login."""
        user = await session.get(User, user_id)
        if user is None:
            raise Unauthorized(BAD_CREDENTIALS)
        pair = await self._issue(session, user, family_id=str(uuid.uuid4()))
        audit.add(
            session,
            Event.login,
            actor_user_id=user.id,
            subject=f"user:{user.id}",
            address=address,
        )
        return pair

    async def _login_failed(
        self,
        limits: CredentialLimits | None,
        admission: Admission,
        account: str,
        user_id: int | None,
        address: str | None,
    ) -> None:
        # Never the submitted identifier: it may be a password typed into the wrong field.
        reason = "bad_password" if user_id is not None else "unknown_account"
        self._record(Event.login, Outcome.failure, user_id, address, reason=reason)
        if limits is not None and await limits.login_failed(account, admission):
            self._record_lockout(limits, user_id)

    def _record_lockout(self, limits: CredentialLimits, user_id: int | None) -> None:
        """Once per pause; no address: the attempt that found the ceiling full is any one."""
        seconds = int(limits.lockout.get_expiry())
        log.warning("auth.lockout subject=%s seconds=%d", _subject(user_id), seconds)
        self._record(Event.lockout, Outcome.blocked, user_id, None, seconds=seconds)

    def _record(
        self,
        event: Event,
        outcome: Outcome,
        user_id: int | None,
        address: str | None,
        **detail: str | int,
    ) -> None:
        """Off the request path: a refused login's transaction is rolled back."""
        if self.audit_log is not None:
            self.audit_log.record(
                event, outcome, subject=_subject(user_id), address=address, detail=dict(detail)
            )

    async def refresh(
        self, session: AsyncSession, presented: str, *, address: str | None = None
    ) -> TokenPair:
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
            audit.add(
                session,
                Event.refresh_reuse,
                Outcome.blocked,
                subject=_subject(token.user_id),
                address=address,
                detail={"action": "token_family_revoked"},
            )
            await session.commit()  # the revocation must survive the 401 below
            raise Unauthorized("Refresh token reuse detected; please log in again")
        user = await session.get(User, token.user_id)
        if user is None or not user.is_active or user.token_version != token.token_version:
            raise Unauthorized("Invalid refresh token")
        return await self._issue(session, user, family_id=token.family_id)

    async def logout(
        self, session: AsyncSession, user_id: int, *, address: str | None = None
    ) -> None:
        """The user ends their sessions: `end_sessions`, recorded as a logout."""
        await self.end_sessions(session, user_id)
        audit.add(
            session, Event.logout, actor_user_id=user_id, subject=_subject(user_id), address=address
        )

    async def end_sessions(self, session: AsyncSession, user_id: int) -> None:
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
