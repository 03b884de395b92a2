"""What the YouTube platform needs of an account's Google tokens: the `YouTubeAccess` seam.

`TokenAccess` is the one the wiring uses: the accounts' `TokenSource`, which refreshes an
account through its own platform's OAuth (`social_accounts.platform`), so a Google
refresh token only ever goes to Google. Tests may hand the publisher another.
"""

from __future__ import annotations

from typing import Protocol

from tiktimer.platforms.tokens import TokenSource


class YouTubeAccess(Protocol):
    async def access_token(self, account_id: int) -> str:
        """A Google access token for the account, refreshed when near expiry."""
        ...

    async def refresh(self, account_id: int) -> None:
        """Renew the access token after Google refused it."""
        ...


class TokenAccess:
    """`YouTubeAccess` over the accounts' tokens (`platforms.tokens.TokenSource`), which
    refresh each account through its own platform's OAuth."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    async def access_token(self, account_id: int) -> str:
        return (await self.tokens.access_token(account_id)).token

    async def refresh(self, account_id: int) -> None:
        await self.tokens.refresh(account_id)
