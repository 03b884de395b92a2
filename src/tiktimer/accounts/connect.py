"""The OAuth dance: a server-side state bound to the user, PKCE, and storing the account.

The state is random, stored only as its hash, bound to the user who started the flow, valid
for ten minutes and usable once; the PKCE verifier rides along encrypted. In a browser the
state is derived from a cookie secret (`binding`), so the callback knows whether the browser
finishing is the one that started. When it is not, the code is parked: a one-time ticket row
(in the same table) holds the verifier and the code, encrypted, until the starting user signs
in to confirm. Whatever goes wrong ends in a `ConnectError` whose `kind` says what the user
should be told.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.accounts import binding
from tiktimer.accounts.tokens import store_token_set
from tiktimer.audit import events as audit
from tiktimer.audit.events import Event, Outcome
from tiktimer.kit.crypto import TokenCipher, sha256_hex
from tiktimer.kit.time import utc_now
from tiktimer.models import AccountStatus, OAuthState, SocialAccount
from tiktimer.platforms.tiktok.client import (
    TikTokClient,
    code_challenge,
    generate_code_verifier,
    user_info_fields_for,
)
from tiktimer.platforms.tiktok.errors import TikTokError
from tiktimer.platforms.tiktok.schemas import TokenSet, UserInfo

log = logging.getLogger("tiktimer.accounts")

STATE_LIFETIME = timedelta(minutes=10)


class ConnectError(Exception):
    """The connection failed; `kind` is one of: denied, invalid_state, exchange_failed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class PendingState:
    user_id: int
    code_verifier: str


@dataclass(frozen=True, slots=True)
class ParkedCode:
    """A callback awaiting its owner's sign-in: what `complete` needs, once confirmed."""

    pending: PendingState
    code: str


@dataclass(frozen=True, slots=True)
class Started:
    authorization_url: str
    browser_secret: str  # the flow cookie's value; the state is derived from it


# A ticket row's payload is JSON; a state row's is the bare PKCE verifier (never "{...").
def _ticket_payload(verifier: str, code: str) -> str:
    return json.dumps({"verifier": verifier, "code": code})


def _is_ticket(payload: str) -> bool:
    return payload.startswith("{")


async def spend_state(
    session: AsyncSession, cipher: TokenCipher, state: str, *, user_id: int | None
) -> tuple[OAuthState, str]:
    """Spend a state (or ticket) row exactly once: the row and its decrypted payload."""
    row = await session.scalar(select(OAuthState).where(OAuthState.state_hash == sha256_hex(state)))
    now = utc_now()
    if row is None or (user_id is not None and row.user_id != user_id):
        raise ConnectError("invalid_state", "This sign-in link is not valid (forged state).")
    spent = await session.execute(
        update(OAuthState)
        .where(OAuthState.id == row.id, OAuthState.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise ConnectError("invalid_state", "This sign-in link was already used.")
    if row.expires_at <= now:
        raise ConnectError("invalid_state", "This sign-in link expired; please start again.")
    return row, cipher.decrypt(row.code_verifier_encrypted)


class ConnectService:
    def __init__(self, client: TikTokClient, cipher: TokenCipher, *, sandbox: bool) -> None:
        self.client = client
        self.cipher = cipher
        self.sandbox = sandbox

    async def start(self, session: AsyncSession, user_id: int) -> str:
        """Record a fresh state for this user and return TikTok's consent URL."""
        return (await self.start_bound(session, user_id)).authorization_url

    async def start_bound(self, session: AsyncSession, user_id: int) -> Started:
        """Like `start`, with the browser secret whose hash is the state (for the cookie)."""
        secret = binding.new_secret()
        state = binding.derive(secret, "state")
        verifier = generate_code_verifier()
        session.add(
            OAuthState(
                state_hash=sha256_hex(state),
                user_id=user_id,
                code_verifier_encrypted=self.cipher.encrypt(verifier),
                redirect_uri=self.client.redirect_uri,
                expires_at=utc_now() + STATE_LIFETIME,
            )
        )
        await session.flush()
        url = self.client.authorization_url(state=state, code_challenge=code_challenge(verifier))
        return Started(url, secret)

    async def consume_state(
        self, session: AsyncSession, state: str | None, *, user_id: int | None = None
    ) -> PendingState:
        """Spend a state exactly once; unknown, expired, reused or foreign states fail."""
        if not state:
            raise ConnectError("invalid_state", "The sign-in link is missing its state.")
        row, payload = await self._spend(session, state, user_id=user_id)
        if _is_ticket(payload):
            raise ConnectError("invalid_state", "This sign-in link is not valid (forged state).")
        return PendingState(row.user_id, payload)

    async def park(self, session: AsyncSession, pending: PendingState, code: str) -> str:
        """Hold a callback's code until its owner signs in; returns the confirmation secret.

        The ticket (the secret's hash) names a new one-time row holding the verifier and the
        code, encrypted; the page carries only the ticket, the browser only the secret.
        """
        secret = binding.new_secret()
        session.add(
            OAuthState(
                state_hash=sha256_hex(binding.derive(secret, "confirm")),
                user_id=pending.user_id,
                code_verifier_encrypted=self.cipher.encrypt(
                    _ticket_payload(pending.code_verifier, code)
                ),
                redirect_uri=self.client.redirect_uri,
                expires_at=utc_now() + STATE_LIFETIME,
            )
        )
        await session.flush()
        return secret

    async def consume_ticket(self, session: AsyncSession, ticket: str) -> ParkedCode:
        """Spend a confirmation ticket exactly once (whoever signs in, right or wrong)."""
        row, payload = await self._spend(session, ticket, user_id=None)
        if not _is_ticket(payload):
            raise ConnectError("invalid_state", "This confirmation is not valid.")
        data = json.loads(payload)
        return ParkedCode(PendingState(row.user_id, str(data["verifier"])), str(data["code"]))

    async def _spend(
        self, session: AsyncSession, state: str, *, user_id: int | None
    ) -> tuple[OAuthState, str]:
        return await spend_state(session, self.cipher, state, user_id=user_id)

    async def complete(
        self, session: AsyncSession, pending: PendingState, code: str
    ) -> SocialAccount:
        """Exchange the code, read the profile and store (or update) the account."""
        tokens, profile = await self._exchange(session, pending, code)
        account = await self._account_for(session, pending.user_id, tokens.open_id)
        store_token_set(account, tokens, self.cipher)
        self._apply_profile(account, profile)
        await session.flush()
        audit.add(
            session,
            Event.tiktok_connected,
            actor_user_id=pending.user_id,
            subject=f"account:{account.id}",
            detail={"sandbox": self.sandbox},
        )
        log.info(
            "accounts.connected user_id=%d account_id=%d open_id=%s scopes=%s",
            pending.user_id,
            account.id,
            account.open_id,
            account.scopes,
        )
        return account

    async def _exchange(
        self, session: AsyncSession, pending: PendingState, code: str
    ) -> tuple[TokenSet, UserInfo]:
        """Tokens for the code and the creator's profile; a refusal is audited, then raised."""
        try:
            tokens = await self.client.exchange_code(code, code_verifier=pending.code_verifier)
            fields = user_info_fields_for(tokens.scopes)
            profile = await self.client.get_user_info(
                tokens.access_token.get_secret_value(), fields=fields
            )
        except TikTokError as exc:
            log.warning(
                "accounts.connect.failed user_id=%d code=%s log_id=%s",
                pending.user_id,
                exc.code,
                exc.log_id,
            )
            audit.add(
                session,
                Event.tiktok_connected,
                Outcome.failure,
                actor_user_id=pending.user_id,
                detail={"code": exc.code},
            )
            raise ConnectError(
                "exchange_failed", f"TikTok refused the connection ({exc.code})."
            ) from exc
        return tokens, profile

    @staticmethod
    async def _account_for(session: AsyncSession, user_id: int, open_id: str) -> SocialAccount:
        """The user's account for this TikTok creator: the existing row, or a new one."""
        account = await session.scalar(
            select(SocialAccount).where(
                SocialAccount.user_id == user_id,
                SocialAccount.platform == "tiktok",
                SocialAccount.open_id == open_id,
            )
        )
        if account is None:
            account = SocialAccount(user_id=user_id, platform="tiktok", open_id=open_id)
            session.add(account)
        return account

    def _apply_profile(self, account: SocialAccount, profile: UserInfo) -> None:
        """Fresh profile fields (keeping known ones TikTok left out); active again."""
        account.union_id = profile.union_id or account.union_id
        account.display_name = profile.display_name or account.display_name
        account.username = profile.username or account.username
        account.avatar_url = profile.avatar_url or account.avatar_url
        account.status = AccountStatus.active
        account.status_reason = None
        account.is_sandbox = self.sandbox
        account.refresh_lock_until = None
