"""What a platform needs of an account's tokens, without knowing how they are kept.

`accounts.tokens.AccountTokens` keeps them (encrypted at rest, refreshed under a lease);
platforms see only this contract, so they never import the accounts package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class AccountUnusable(Exception):
    """The account cannot call its platform until its owner reconnects it."""

    def __init__(self, account_id: int, reason: str) -> None:
        super().__init__(f"account {account_id}: {reason}")
        self.account_id = account_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessToken:
    account_id: int
    open_id: str
    token: str


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """The token columns of an account row, as read (no ORM object, no session)."""

    id: int
    open_id: str
    status: str
    status_reason: str | None
    access_token_encrypted: str | None
    access_token_expires_at: datetime | None
    refresh_token_encrypted: str | None = None
    refresh_lock_until: datetime | None = None
    platform: str = "tiktok"


class TokenSource(Protocol):
    def stored_token(
        self, account: StoredAccount, *, margin: timedelta = ...
    ) -> AccessToken | None: ...

    async def access_token(self, account_id: int, *, margin: timedelta = ...) -> AccessToken: ...

    async def refresh(
        self, account_id: int, *, unless_fresh_for: timedelta | None = None
    ) -> AccessToken: ...

    async def mark_reauth_required(self, account_id: int, reason: str) -> None: ...

    def oauth_provider(self, platform: str) -> object | None:
        """The platform's OAuth this process connects and refreshes with (None: not set up);
        a platform publishes with the same client (`platforms.oauth.OAuthProvider`)."""
        ...
