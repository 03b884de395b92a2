"""Access tokens on demand: decrypt, refresh when close to expiry, one refresh at a time.

Refresh tokens rotate (the old one dies), so two processes refreshing the same account at
once would leave one of them holding a dead token. A lease on the account row
(`refresh_lock_until`, taken with a guarded UPDATE) serialises refreshes across every API
and worker process on SQLite and PostgreSQL alike; the loser waits and reads the result.
Each account refreshes through its own platform (`social_accounts.platform`): TikTok's
client, or the platform's `OAuthProvider` (`platforms.oauth`) for any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tiktimer.audit import events as audit
from tiktimer.audit.events import Event, Outcome
from tiktimer.db.fastread import FastQuery
from tiktimer.db.read import autocommit_engine
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.instruments import TOKEN_REFRESHES
from tiktimer.kit.time import utc_now
from tiktimer.models import AccountStatus, SocialAccount
from tiktimer.notifications.events import record_account_event
from tiktimer.platforms.oauth import GrantRevoked, OAuthProvider, OAuthTokens
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.errors import TikTokError, TikTokReauthorizeRequired
from tiktimer.platforms.tiktok.schemas import TokenSet
from tiktimer.platforms.tokens import AccessToken as AccessToken
from tiktimer.platforms.tokens import AccountUnusable as AccountUnusable
from tiktimer.platforms.tokens import StoredAccount as StoredAccount

log = logging.getLogger("tiktimer.accounts")

REFRESH_MARGIN = timedelta(minutes=5)
REFRESH_LEASE = timedelta(seconds=60)
LEASE_POLL_SECONDS = 0.1
# Decrypted tokens kept per ciphertext (a ciphertext always decrypts to the same token).
PLAINTEXT_CACHE_SIZE = 4096

_accounts = SocialAccount.__table__.c
_STORED = FastQuery(
    select(
        _accounts.id,
        _accounts.open_id,
        _accounts.status,
        _accounts.status_reason,
        _accounts.access_token_encrypted,
        _accounts.access_token_expires_at,
        _accounts.refresh_token_encrypted,
        _accounts.refresh_lock_until,
        _accounts.platform,
    ).where(_accounts.id == bindparam("account_id"))
)


def forget_tokens(account: SocialAccount) -> None:
    """The user disconnected the account: its tokens go, whatever the platform said."""
    account.access_token_encrypted = None
    account.refresh_token_encrypted = None
    account.access_token_expires_at = None
    account.refresh_token_expires_at = None
    account.status = AccountStatus.disconnected
    account.status_reason = "Disconnected by the user"


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


def store_oauth_tokens(account: SocialAccount, tokens: OAuthTokens, cipher: TokenCipher) -> None:
    """A platform's token set onto the account, encrypted; no refresh token keeps the old."""
    account.access_token_encrypted = cipher.encrypt(tokens.access_token)
    account.access_token_expires_at = tokens.expires_at
    if tokens.refresh_token:
        account.refresh_token_encrypted = cipher.encrypt(tokens.refresh_token)
        account.refresh_token_expires_at = tokens.refresh_expires_at
    if tokens.scopes:
        account.scopes = ",".join(tokens.scopes)
    account.last_refreshed_at = utc_now()


class AccountTokens:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        client: TikTokClient,
        providers: Mapping[str, OAuthProvider] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cipher = cipher
        self.client = client
        self.providers = dict(providers or {})
        bind = sessionmaker.kw.get("bind")
        # Token reads run on every publish and status check: one autocommit round trip.
        self._reads = autocommit_engine(bind) if isinstance(bind, AsyncEngine) else None
        self._plaintexts: dict[str, str] = {}

    def oauth_provider(self, platform: str) -> OAuthProvider | None:
        return self.providers.get(platform)

    def stored_token(
        self, account: StoredAccount, *, margin: timedelta = REFRESH_MARGIN
    ) -> AccessToken | None:
        """The token of an account row read elsewhere, when usable and valid for `margin`
        (None: go through `access_token`, which refreshes)."""
        if account.status != AccountStatus.active or not _fresh(account, margin):
            return None
        return self._decrypted(account)

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
        if account.platform != "tiktok":
            return await self._refresh_through_provider(account, refresh_token)
        try:
            tokens = await self.client.refresh_access_token(refresh_token)
        except TikTokReauthorizeRequired as exc:
            TOKEN_REFRESHES.labels("tiktok", "reauthorize").inc()
            await self.mark_reauth_required(account_id, f"TikTok refused the refresh: {exc.code}")
            raise AccountUnusable(account_id, "TikTok access was revoked or expired") from exc
        except TikTokError as exc:
            TOKEN_REFRESHES.labels("tiktok", "failed").inc()
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
        TOKEN_REFRESHES.labels("tiktok", "ok").inc()
        log.info("accounts.refresh.ok account_id=%d log_id=%s", account_id, tokens.log_id)
        return AccessToken(account_id, account.open_id, tokens.access_token.get_secret_value())

    async def _refresh_through_provider(
        self, account: StoredAccount, refresh_token: str
    ) -> AccessToken:
        platform, account_id = account.platform, account.id
        provider = self.providers.get(platform)
        if provider is None:
            raise AccountUnusable(account_id, f"{platform} is not set up in this process")
        try:
            tokens = await provider.refresh(refresh_token)
        except GrantRevoked as exc:
            TOKEN_REFRESHES.labels(platform, "reauthorize").inc()
            reason = f"{provider.title} refused the refresh: {exc.code}"
            await self.mark_reauth_required(account_id, reason)
            raise AccountUnusable(account_id, f"{provider.title} access was revoked") from exc
        except Exception as exc:
            TOKEN_REFRESHES.labels(platform, "failed").inc()
            log.warning(
                "accounts.refresh.failed account_id=%d platform=%s error=%s",
                account_id,
                platform,
                type(exc).__name__,
            )
            raise
        async with self.sessionmaker() as session, session.begin():
            stored = await session.get(SocialAccount, account_id)
            assert stored is not None
            store_oauth_tokens(stored, tokens, self.cipher)
            stored.status = AccountStatus.active
            stored.status_reason = None
        TOKEN_REFRESHES.labels(platform, "ok").inc()
        log.info("accounts.refresh.ok account_id=%d platform=%s", account_id, platform)
        return AccessToken(account_id, account.open_id, tokens.access_token)

    async def mark_reauth_required(self, account_id: int, reason: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            marking = update(SocialAccount).values(
                status=AccountStatus.reauth_required, status_reason=reason
            )
            newly = marking.where(
                SocialAccount.id == account_id,
                SocialAccount.status != AccountStatus.reauth_required,
            ).returning(SocialAccount.id)
            if (await session.execute(newly)).first() is not None:
                # The owner hears it once, not at every refusal that follows.
                await record_account_event(session, account_id, reason)
            else:
                await session.execute(marking.where(SocialAccount.id == account_id))
            audit.add(
                session,
                Event.tiktok_reauth_required,
                Outcome.failure,
                subject=f"account:{account_id}",
                detail={"reason": reason},
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

    async def _load(self, account_id: int) -> StoredAccount:
        account = await self._read(account_id)
        if account is None:
            raise AccountUnusable(account_id, "account not found")
        if account.status == AccountStatus.disconnected:
            raise AccountUnusable(account_id, "account is disconnected")
        if account.status == AccountStatus.reauth_required:
            raise AccountUnusable(account_id, account.status_reason or "reconnect the account")
        return account

    async def _read(self, account_id: int) -> StoredAccount | None:
        params = {"account_id": account_id}
        if self._reads is None:
            async with self.sessionmaker() as session:
                connection = await session.connection()
                rows = await _STORED.fetch(connection, params)
        else:
            async with self._reads.connect() as connection:
                rows = await _STORED.fetch(connection, params)
        return StoredAccount(*rows[0]) if rows else None

    def _decrypted(self, account: StoredAccount) -> AccessToken:
        ciphertext = account.access_token_encrypted
        assert ciphertext is not None
        token = self._plaintexts.get(ciphertext)
        if token is None:
            token = self.cipher.decrypt(ciphertext)
            if len(self._plaintexts) >= PLAINTEXT_CACHE_SIZE:
                self._plaintexts.clear()
            self._plaintexts[ciphertext] = token
        return AccessToken(account.id, account.open_id, token)


def _fresh(account: StoredAccount, margin: timedelta) -> bool:
    expires = account.access_token_expires_at
    return (
        account.access_token_encrypted is not None
        and expires is not None
        and expires - margin > utc_now()
    )
