"""Reading and disconnecting a user's accounts; what their scopes allow."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.accounts.schemas import AccountRead, TokenHealth
from tiktimer.accounts.tokens import forget_tokens
from tiktimer.audit import events as audit
from tiktimer.audit.events import Event
from tiktimer.errors import BadRequest, NotFound
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.time import utc_now
from tiktimer.models import AccountStatus, SocialAccount
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.errors import TikTokError
from tiktimer.platforms.tiktok.scopes import DIRECT_POST_SCOPE, POSTING_SCOPES, UPLOAD_SCOPE

log = logging.getLogger("tiktimer.accounts")

EXPIRING_WITHIN = timedelta(days=3)


def scopes_of(account: SocialAccount) -> list[str]:
    return [s for s in account.scopes.split(",") if s]


def token_health(account: SocialAccount) -> TokenHealth:
    if account.status == AccountStatus.disconnected:
        return "disconnected"
    if account.status == AccountStatus.reauth_required:
        return "reauth_required"
    now = utc_now()
    refresh_expiry = account.refresh_token_expires_at
    if refresh_expiry is not None and refresh_expiry <= now:
        return "expired"
    if refresh_expiry is not None and refresh_expiry - now < EXPIRING_WITHIN:
        return "expiring"
    return "ok"


def to_read(account: SocialAccount) -> AccountRead:
    scopes = scopes_of(account)
    return AccountRead(
        id=account.id,
        platform=account.platform,
        open_id=account.open_id,
        display_name=account.display_name,
        username=account.username,
        avatar_url=account.avatar_url,
        scopes=scopes,
        # TikTok's posting scopes; another platform's grant is judged by that platform.
        missing_scopes=(
            [s for s in POSTING_SCOPES if s not in scopes] if account.platform == "tiktok" else []
        ),
        can_direct_post=DIRECT_POST_SCOPE in scopes,
        can_upload_drafts=UPLOAD_SCOPE in scopes,
        status=account.status,
        status_reason=account.status_reason,
        token_health=token_health(account),
        access_token_expires_at=account.access_token_expires_at,
        refresh_token_expires_at=account.refresh_token_expires_at,
        is_sandbox=account.is_sandbox,
        paused_at=account.paused_at,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _foreign(account: SocialAccount) -> bool:
    """Another platform's account holding its tokens: disconnected at its own route."""
    has_tokens = account.access_token_encrypted or account.refresh_token_encrypted
    return account.platform != "tiktok" and has_tokens is not None


class AccountService:
    def __init__(self, client: TikTokClient, cipher: TokenCipher) -> None:
        self.client = client
        self.cipher = cipher

    async def list_for_owner(self, session: AsyncSession, user_id: int) -> list[SocialAccount]:
        rows = await session.scalars(
            select(SocialAccount).where(SocialAccount.user_id == user_id).order_by(SocialAccount.id)
        )
        return list(rows)

    async def get_owned(
        self, session: AsyncSession, user_id: int, account_id: int
    ) -> SocialAccount:
        account = await session.scalar(
            select(SocialAccount).where(
                SocialAccount.id == account_id, SocialAccount.user_id == user_id
            )
        )
        if account is None:
            raise NotFound("Account not found")
        return account

    async def disconnect(
        self, session: AsyncSession, user_id: int, account_id: int | None
    ) -> SocialAccount:
        """Revoke the grant at TikTok (best effort) and delete the stored tokens; TikTok
        accounts only (another platform's disconnect is `platform_connect`'s)."""
        account = await self._to_disconnect(session, user_id, account_id)
        if _foreign(account):  # its tokens must never go to TikTok's revoke
            raise BadRequest(
                f"Account {account.id} is a {account.platform} account: disconnect it at "
                f"/api/v1/auth/{account.platform}/disconnect"
            )
        if account.access_token_encrypted is not None:
            try:
                await self.client.revoke_access_token(
                    self.cipher.decrypt(account.access_token_encrypted)
                )
            except TikTokError as exc:  # the local tokens go regardless
                log.warning(
                    "accounts.revoke.failed account_id=%d code=%s log_id=%s",
                    account.id,
                    exc.code,
                    exc.log_id,
                )
        forget_tokens(account)
        await session.flush()
        audit.add(
            session,
            Event.tiktok_disconnected,
            actor_user_id=user_id,
            subject=f"account:{account.id}",
        )
        log.info("accounts.disconnected account_id=%d", account.id)
        return account

    async def _to_disconnect(
        self, session: AsyncSession, user_id: int, account_id: int | None
    ) -> SocialAccount:
        """The named account, or the user's only connected TikTok account."""
        if account_id is not None:
            return await self.get_owned(session, user_id, account_id)
        connected = [
            a
            for a in await self.list_for_owner(session, user_id)
            if a.status != AccountStatus.disconnected and not _foreign(a)
        ]
        if len(connected) != 1:
            raise BadRequest(
                f"Pass account_id: you have {len(connected)} connected accounts"
                if connected
                else "No connected TikTok account"
            )
        return connected[0]
