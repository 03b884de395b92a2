"""`YouTubeOAuth`: Google's OAuth as the accounts package asks for it (`platforms.oauth`).

The profile is the signed-in channel (`channels.list?mine=true`): its id is the account's
`open_id`. Google's refusals become the contract's `ExchangeRefused` / `GrantRevoked`;
tokens never reach a message.
"""

from __future__ import annotations

from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.oauth import (
    ExchangeRefused,
    GrantRevoked,
    OAuthConnection,
    OAuthProfile,
    OAuthTokens,
)
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.errors import YouTubeError
from tiktimer.platforms.youtube.schemas import TokenSet

NAME = "youtube"


class YouTubeOAuth:
    name = NAME
    title = "YouTube Shorts"

    def __init__(self, client: YouTubeClient, *, sandbox: bool) -> None:
        self.client, self.sandbox = client, sandbox
        self.redirect_uri = client.redirect_uri

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        return self.client.authorization_url(state=state, code_verifier=code_verifier)

    async def exchange(self, code: str, code_verifier: str) -> OAuthConnection:
        try:
            tokens = await self.client.exchange_code(code, code_verifier)
            channel_id, title = await self.client.my_channel(tokens.access_token)
        except YouTubeError as error:
            raise ExchangeRefused(error.code or error.kind.value) from None
        return OAuthConnection(_tokens(tokens), OAuthProfile(channel_id, display_name=title))

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        try:
            return _tokens(await self.client.refresh(refresh_token))
        except YouTubeError as error:
            if error.kind is ErrorKind.reauthorize:
                raise GrantRevoked(error.code or "invalid_grant") from None
            raise

    async def revoke(self, token: str) -> None:
        await self.client.revoke(token)


def _tokens(tokens: TokenSet) -> OAuthTokens:
    return OAuthTokens(
        access_token=tokens.access_token,
        expires_at=tokens.expires_at,
        scopes=tokens.scopes,
        refresh_token=tokens.refresh_token,
    )
