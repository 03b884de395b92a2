"""Access tokens on demand: decrypt, refresh when close to expiry, one refresh at a time.

Refresh tokens rotate (the old one dies), so two processes refreshing the same account at
once would leave one of them holding a dead token. A lease on the account row
(`refresh_lock_until`, taken with a guarded UPDATE) serialises refreshes across every API
and worker process on SQLite and PostgreSQL alike; the loser waits and reads the result.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.time import utc_now
from tiktimer.models import AccountStatus, SocialAccount
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.errors import TikTokError, TikTokReauthorizeRequired
from tiktimer.platforms.tiktok.schemas import TokenSet

log = logging.getLogger("tiktimer.accounts")

REFRESH_MARGIN = timedelta(minutes=5)
REFRESH_LEASE = timedelta(seconds=60)
LEASE_POLL_SECONDS = 0.1


class AccountUnusable(Exception):
    """The account cannot call TikTok until its owner reconnects it."""

    def __init__(self, account_id: int, reason: str) -> None:
        super().__init__(f"account {account_id}: {reason}")
        self.account_id = account_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessToken:
    account_id: int
    open_id: str
    token: str


def store_token_set(account: SocialAccount, tokens: TokenSet, cipher: TokenCipher) -> None:
    """Write a token set onto the account; an empty refresh token never blanks a stored one."""
    now = tokens.obtained_at
    account.access_token_encrypted = cipher.encrypt(tokens.access_token.get_secret_value())
    account.access_token_expires_at = now + timedelta(seconds=tokens.expires_in)
    refresh = tokens.refresh_token.get_secret_value()
    if refresh:
        account.refresh_token_encrypted = cipher.encrypt(refresh)
        account.refresh_token_expires_at = now + timedelta(seconds=tokens.refresh_expires_in)
    if tokens.scopes:
        account.scopes = ",".join(tokens.scopes)
    account.last_refreshed_at = utc_now()


class AccountTokens:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        client: TikTokClient,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cipher = cipher
        self.client = client

    async def access_token(
        self, account_id: int, *, margin: timedelta = REFRESH_MARGIN
    ) -> AccessToken:
        """A token valid for at least `margin`, refreshing first when needed."""
        account = await self._load(account_id)
        if _fresh(account, margin):
            return self._decrypted(account)
        return await self.refresh(account_id, unless_fresh_for=margin)

    async def refresh(
        self, account_id: int, *, unless_fresh_for: timedelta | None = None
    ) -> AccessToken:
        """Refresh under the account's lease; waiters reuse the winner's new token."""
        deadline = asyncio.get_running_loop().time() + REFRESH_LEASE.total_seconds() * 2
        while True:
            if await self._take_lease(account_id):
                try:
                    return await self._refresh_holding_lease(account_id, unless_fresh_for)
                finally:
                    await self._release_lease(account_id)
            await asyncio.sleep(LEASE_POLL_SECONDS)
            account = await self._load(account_id)
            if account.refresh_lock_until is None and _fresh(
                account, unless_fresh_for or REFRESH_MARGIN
            ):
                return self._decrypted(account)
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"account {account_id}: token refresh lease never freed")

    async def _refresh_holding_lease(
        self, account_id: int, unless_fresh_for: timedelta | None
    ) -> AccessToken:
        account = await self._load(account_id)
        if unless_fresh_for is not None and _fresh(account, unless_fresh_for):
            return self._decrypted(account)  # someone refreshed while we queued
        if account.refresh_token_encrypted is None:
            raise AccountUnusable(account_id, "no refresh token stored; reconnect the account")
        refresh_token = self.cipher.decrypt(account.refresh_token_encrypted)
        try:
            tokens = await self.client.refresh_access_token(refresh_token)
        except TikTokReauthorizeRequired as exc:
            await self.mark_reauth_required(account_id, f"TikTok refused the refresh: {exc.code}")
            raise AccountUnusable(account_id, "TikTok access was revoked or expired") from exc
        except TikTokError as exc:
            log.warning(
                "accounts.refresh.failed account_id=%d code=%s retryable=%s log_id=%s",
                account_id,
                exc.code,
                exc.action,
                exc.log_id,
            )
            raise
        async with self.sessionmaker() as session, session.begin():
            stored = await session.get(SocialAccount, account_id)
            assert stored is not None
            store_token_set(stored, tokens, self.cipher)
            stored.status = AccountStatus.active
            stored.status_reason = None
        log.info("accounts.refresh.ok account_id=%d log_id=%s", account_id, tokens.log_id)
        return AccessToken(account_id, account.open_id, tokens.access_token.get_secret_value())

    async def mark_reauth_required(self, account_id: int, reason: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(SocialAccount)
                .where(SocialAccount.id == account_id)
                .values(status=AccountStatus.reauth_required, status_reason=reason)
            )
        log.warning("accounts.reauth_required account_id=%d reason=%s", account_id, reason)

    async def _take_lease(self, account_id: int) -> bool:
        now = utc_now()
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(SocialAccount)
                .where(
                    SocialAccount.id == account_id,
                    or_(
                        SocialAccount.refresh_lock_until.is_(None),
                        SocialAccount.refresh_lock_until < now,
                    ),
                )
                .values(refresh_lock_until=now + REFRESH_LEASE)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _release_lease(self, account_id: int) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(SocialAccount)
                .where(SocialAccount.id == account_id)
                .values(refresh_lock_until=None)
            )

    async def _load(self, account_id: int) -> SocialAccount:
        async with self.sessionmaker() as session:
            account = await session.get(SocialAccount, account_id)
        if account is None:
            raise AccountUnusable(account_id, "account not found")
        if account.status == AccountStatus.disconnected:
            raise AccountUnusable(account_id, "account is disconnected")
        if account.status == AccountStatus.reauth_required:
            raise AccountUnusable(account_id, account.status_reason or "reconnect the account")
        return account

    def _decrypted(self, account: SocialAccount) -> AccessToken:
        assert account.access_token_encrypted is not None
        token = self.cipher.decrypt(account.access_token_encrypted)
        return AccessToken(account.id, account.open_id, token)


def _fresh(account: SocialAccount, margin: timedelta) -> bool:
    expires = account.access_token_expires_at
    return (
        account.access_token_encrypted is not None
        and expires is not None
        and expires - margin > utc_now()
    )
