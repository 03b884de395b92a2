"""`OAuthTokens`: the server half of TikTok's OAuth, the calls that carry the app secret.

The secret lives only here and only ever travels in token/revoke form bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import unquote

from pydantic import SecretStr

from tiktimer.platforms.tiktok.api.authorization import check_verifier
from tiktimer.platforms.tiktok.api.calls import TikTokApi
from tiktimer.platforms.tiktok.api.redaction import secret
from tiktimer.platforms.tiktok.api.responses import log_id_of, parse, text
from tiktimer.platforms.tiktok.errors import TikTokUnexpectedResponse
from tiktimer.platforms.tiktok.schemas import Acknowledgement, TokenSet

# Form fields that are not secret: everything else is scrubbed from TikTok's messages.
_PUBLIC_FORM_FIELDS = ("client_key", "grant_type", "redirect_uri")


class OAuthTokens:
    """Exchanges codes for tokens, refreshes and revokes them."""

    def __init__(
        self,
        api: TikTokApi,
        *,
        client_key: str,
        client_secret: SecretStr,
        redirect_uri: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._api = api
        self._client_key = client_key
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._clock = clock

    def _app_form(self) -> dict[str, str]:
        return {
            "client_key": self._client_key,
            "client_secret": self._client_secret.get_secret_value(),
        }

    async def exchange_code(self, code: str | SecretStr, code_verifier: str) -> TokenSet:
        """Tokens for an authorization code (``%XX`` escapes decoded first)."""
        check_verifier(code_verifier)
        raw_code = unquote(secret(code))
        if not raw_code:
            raise ValueError("code is required")
        form = {
            **self._app_form(),
            "code": raw_code,
            "grant_type": "authorization_code",
            "redirect_uri": self._redirect_uri,
            "code_verifier": code_verifier,
        }
        return await self._token_request(form, endpoint="oauth.token.authorization_code")

    async def refresh(self, refresh_token: str | SecretStr) -> TokenSet:
        """A new token set for ``refresh_token``."""
        token = secret(refresh_token)
        if not token:
            raise ValueError("refresh_token is required")
        form = {**self._app_form(), "grant_type": "refresh_token", "refresh_token": token}
        return await self._token_request(form, endpoint="oauth.token.refresh_token")

    async def revoke(self, access_token: str | SecretStr) -> Acknowledgement:
        """Revoke the user's grant."""
        token = secret(access_token)
        form = {**self._app_form(), "token": token}
        response, body = await self._api.request(
            "POST",
            f"{self._api.api_base}/v2/oauth/revoke/",
            endpoint="oauth.revoke",
            idempotent=False,
            secret_values=(token, form["client_secret"]),
            data=form,
            headers={"Cache-Control": "no-cache"},
        )
        return Acknowledgement(log_id=log_id_of(body, response))

    async def _token_request(self, form: dict[str, str], *, endpoint: str) -> TokenSet:
        obtained_at = self._clock()
        response, body = await self._api.request(
            "POST",
            f"{self._api.api_base}/v2/oauth/token/",
            endpoint=endpoint,
            idempotent=False,
            secret_values=tuple(v for k, v in form.items() if k not in _PUBLIC_FORM_FIELDS),
            data=form,
            headers={"Cache-Control": "no-cache"},
        )
        log_id = log_id_of(body, response)
        if not isinstance(body, dict) or not text(body.get("access_token")):
            raise TikTokUnexpectedResponse(
                "token response without access_token", code="unexpected_response", log_id=log_id
            )
        return parse(
            TokenSet, {**body, "obtained_at": obtained_at}, endpoint=endpoint, log_id=log_id
        )
