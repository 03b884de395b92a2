"""Connecting an account of any platform that offers OAuth (`platforms.oauth`): YouTube…

The same guarantees as TikTok's flow (`connect`): the state is random, stored only as its
hash, bound to the user and to the platform (the row's redirect URI), valid ten minutes
and spent once; the PKCE verifier rides along encrypted; the browser finishing must hold
the flow cookie whose hash is the state. Unlike TikTok's, a callback in another browser is
refused rather than parked for confirmation. Tokens are stored encrypted with the same
cipher as TikTok's, and refreshed by `tokens.AccountTokens` through the same provider.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.accounts import binding
from tiktimer.accounts.connect import (
    STATE_LIFETIME,
    ConnectError,
    PendingState,
    Started,
    spend_state,
)
from tiktimer.accounts.tokens import forget_tokens, store_oauth_tokens
from tiktimer.errors import NotFound
from tiktimer.kit.crypto import TokenCipher, sha256_hex
from tiktimer.kit.time import utc_now
from tiktimer.models import AccountStatus, OAuthState, SocialAccount
from tiktimer.platforms.oauth import ExchangeRefused, OAuthProfile, OAuthProvider

log = logging.getLogger("tiktimer.accounts")


class PlatformConnect:
    """The OAuth flows of every platform whose spec offers one, by registry name."""

    def __init__(self, providers: Mapping[str, OAuthProvider], cipher: TokenCipher) -> None:
        self.providers = dict(providers)
        self.cipher = cipher

    def provider(self, platform: str) -> OAuthProvider:
        provider = self.providers.get(platform)
        if provider is None:
            raise NotFound(f"No platform {platform!r} to connect in this TikTimer.")
        return provider

    async def start(self, session: AsyncSession, user_id: int, platform: str) -> Started:
        provider = self.provider(platform)
        secret = binding.new_secret()
        state = binding.derive(secret, "state")
        verifier = secrets.token_urlsafe(64)  # PKCE: 86 unreserved characters
        session.add(
            OAuthState(
                state_hash=sha256_hex(state),
                user_id=user_id,
                code_verifier_encrypted=self.cipher.encrypt(verifier),
                redirect_uri=provider.redirect_uri,
                expires_at=utc_now() + STATE_LIFETIME,
            )
        )
        await session.flush()
        return Started(provider.authorization_url(state=state, code_verifier=verifier), secret)

    async def consume_state(
        self, session: AsyncSession, platform: str, state: str | None
    ) -> PendingState:
        """Spend the state once; another platform's state (or a ticket) is forged here."""
        provider = self.provider(platform)
        if not state:
            raise ConnectError("invalid_state", "The sign-in link is missing its state.")
        row, payload = await spend_state(session, self.cipher, state, user_id=None)
        if row.redirect_uri != provider.redirect_uri or payload.startswith("{"):
            raise ConnectError("invalid_state", "This sign-in link is not valid (forged state).")
        return PendingState(row.user_id, payload)

    async def complete(
        self, session: AsyncSession, platform: str, pending: PendingState, code: str
    ) -> SocialAccount:
        provider = self.provider(platform)
        try:
            connection = await provider.exchange(code, pending.code_verifier)
        except ExchangeRefused as exc:
            log.warning(
                "accounts.connect.failed platform=%s user_id=%d code=%s",
                platform,
                pending.user_id,
                exc.code,
            )
            raise ConnectError(
                "exchange_failed", f"{provider.title} refused the connection ({exc.code})."
            ) from exc
        account = await _account_for(session, pending.user_id, platform, connection.profile)
        store_oauth_tokens(account, connection.tokens, self.cipher)
        _apply_profile(account, connection.profile, sandbox=provider.sandbox)
        await session.flush()
        log.info(
            "accounts.connected platform=%s user_id=%d account_id=%d open_id=%s",
            platform,
            pending.user_id,
            account.id,
            account.open_id,
        )
        return account

    async def disconnect(self, session: AsyncSession, account: SocialAccount) -> SocialAccount:
        """Revoke the grant at the platform (best effort), then forget the tokens."""
        provider = self.provider(account.platform)
        token = account.refresh_token_encrypted or account.access_token_encrypted
        if token is not None:
            try:
                await provider.revoke(self.cipher.decrypt(token))
            except Exception as exc:  # the local tokens go regardless
                log.warning(
                    "accounts.revoke.failed account_id=%d error=%s", account.id, type(exc).__name__
                )
        forget_tokens(account)
        await session.flush()
        log.info("accounts.disconnected account_id=%d platform=%s", account.id, account.platform)
        return account


async def _account_for(
    session: AsyncSession, user_id: int, platform: str, profile: OAuthProfile
) -> SocialAccount:
    account = await session.scalar(
        select(SocialAccount).where(
            SocialAccount.user_id == user_id,
            SocialAccount.platform == platform,
            SocialAccount.open_id == profile.open_id,
        )
    )
    if account is None:
        account = SocialAccount(user_id=user_id, platform=platform, open_id=profile.open_id)
        session.add(account)
    return account


def _apply_profile(account: SocialAccount, profile: OAuthProfile, *, sandbox: bool) -> None:
    account.display_name = profile.display_name or account.display_name
    account.username = profile.username or account.username
    account.avatar_url = profile.avatar_url or account.avatar_url
    account.status = AccountStatus.active
    account.status_reason = None
    account.is_sandbox = sandbox
    account.refresh_lock_until = None
