"""What the YouTube platform needs of an account's Google tokens: the `YouTubeAccess` seam.

`accounts.tokens.AccountTokens` refreshes through TikTok's client today, so handing it a
Google refresh token would send that token to TikTok. Until the accounts package refreshes
per platform, the YouTube platform takes its tokens through this protocol only, and a
process that has no implementation of it has a YouTube that refuses to publish.
"""

from __future__ import annotations

from typing import Protocol


class YouTubeAccess(Protocol):
    async def access_token(self, account_id: int) -> str:
        """A Google access token for the account, refreshed when near expiry."""
        ...

    async def refresh(self, account_id: int) -> None:
        """Renew the access token after Google refused it."""
        ...
