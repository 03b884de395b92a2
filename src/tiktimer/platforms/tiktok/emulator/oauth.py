"""Login Kit for Web, strictly: authorize checks, codes, tokens, rotation and revoke (§1).

Codes are single-use and bound to client, redirect_uri and PKCE challenge; replaying a
used code revokes what it produced. Refresh always rotates; presenting a rotated-out
refresh token is treated as theft and (by default) revokes the whole grant.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import ids, pkce
from .config import ClientConfig, EmulatorConfig
from .errors import (
    BAD_PKCE,
    MISSING_PARAMETER,
    ApiError,
    AuthorizeRefused,
    OAuthError,
)
from .models import AccessToken, AuthorizationCode, Grant, OAuthRecords, RefreshToken
from .scopes import ALL_SCOPES, parse_scope_list
from .url_rules import redirect_uri_matches

ClientLookup = Callable[[str], ClientConfig | None]
# How long a spent or expired code is remembered, so a late replay still revokes its grant.
CODE_MEMORY_SECONDS = 3_600.0
# Expired tokens are remembered a day, so they keep being refused as "expired".
TOKEN_MEMORY_SECONDS = 86_400.0


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorize request: what the consent page shows and the form carries."""

    client_key: str
    scopes: tuple[str, ...]
    redirect_uri: str
    state: str
    code_challenge: str | None


@dataclass(frozen=True)
class Caller:
    """Who is behind a bearer token."""

    token_hash: str
    client: ClientConfig
    username: str
    open_id: str
    scopes: frozenset[str]


class OAuthServer:
    def __init__(self, config: EmulatorConfig, clients: ClientLookup) -> None:
        self._config = config
        self._clients = clients
        self._records = OAuthRecords()
        self._codes = self._records.codes
        self._grants = self._records.grants
        self._access = self._records.access
        self._refresh = self._records.refresh

    # -- persistence -----------------------------------------------------------------

    def records(self) -> OAuthRecords:
        """Codes, grants and tokens (all keyed by hashes), for a store to persist."""
        return self._records

    def restore(self, records: OAuthRecords) -> None:
        self._records = records
        self._codes = records.codes
        self._grants = records.grants
        self._access = records.access
        self._refresh = records.refresh

    def prune(self, now: float) -> None:
        """Forget what can no longer be used: expired tokens, codes long past their life."""
        code_horizon = now - self._config.code_lifetime_seconds - CODE_MEMORY_SECONDS
        for key in [k for k, c in self._codes.items() if c.issued_at < code_horizon]:
            del self._codes[key]
        token_horizon = now - TOKEN_MEMORY_SECONDS
        for key in [k for k, t in self._access.items() if t.expires_at <= token_horizon]:
            del self._access[key]
        for key in [k for k, t in self._refresh.items() if t.expires_at <= token_horizon]:
            del self._refresh[key]

    # -- authorize -------------------------------------------------------------------

    def check_authorize_request(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """Refuse, with TikTok's own error page, what it would not redirect back from."""
        client = self._authorize_client(params)
        if params.get("response_type") != "code":
            raise AuthorizeRefused("response_type", "response_type must be code")
        scopes = tuple(parse_scope_list(params.get("scope", "")))
        if not scopes:
            raise AuthorizeRefused("scope", "scope is required (comma-separated)")
        for scope in scopes:
            if scope not in ALL_SCOPES or scope not in client.approved_scopes:
                raise AuthorizeRefused("scope", f"scope {scope!r} is not approved for this app")
        redirect_uri = params.get("redirect_uri", "")
        if not any(
            redirect_uri_matches(uri, redirect_uri, client.platform) for uri in client.redirect_uris
        ):
            raise AuthorizeRefused("redirect_uri", "redirect_uri is not registered for this app")
        state = params.get("state", "")
        if not state:
            raise AuthorizeRefused("state", "state is required")
        challenge = self._check_challenge(params, client)
        return AuthorizeRequest(client.client_key, scopes, redirect_uri, state, challenge)

    def _authorize_client(self, params: Mapping[str, str]) -> ClientConfig:
        key = params.get("client_key")
        if not key:
            hint = " (TikTok calls it client_key, not client_id)" if "client_id" in params else ""
            raise AuthorizeRefused("client_key", "client_key is required" + hint)
        client = self._clients(key)
        if client is None:
            raise AuthorizeRefused("client_key", "unknown client_key")
        return client

    @staticmethod
    def _check_challenge(params: Mapping[str, str], client: ClientConfig) -> str | None:
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if challenge is None:
            if client.pkce_required or method is not None:
                raise AuthorizeRefused("code_challenge", "code_challenge is required")
            return None
        if method != pkce.SUPPORTED_METHOD:
            raise AuthorizeRefused("code_challenge_method", "code_challenge_method must be S256")
        if not pkce.is_valid_challenge(challenge):
            raise AuthorizeRefused(
                "code_challenge", "code_challenge must be the lowercase hex SHA-256 of the verifier"
            )
        return challenge

    def issue_code(
        self, request: AuthorizeRequest, username: str, granted: tuple[str, ...], now: float
    ) -> str:
        code = ids.authorization_code()
        self._codes[ids.token_hash(code)] = AuthorizationCode(
            code_hash=ids.token_hash(code),
            client_key=request.client_key,
            username=username,
            scopes=granted,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            issued_at=now,
        )
        return code

    # -- token endpoint --------------------------------------------------------------

    def exchange_code(self, form: Mapping[str, str], now: float) -> dict[str, Any]:
        client = self.authenticate_client(form)
        raw_code = _required(form, "code")
        redirect_uri = _required(form, "redirect_uri")
        code = self._codes.get(ids.token_hash(raw_code))
        if code is None or code.client_key != client.client_key:
            raise OAuthError("invalid_grant", "Authorization code is invalid.")
        if code.used:
            if code.grant_id is not None:
                self._revoke_grant(code.grant_id)
            raise OAuthError("invalid_grant", "Authorization code has already been used.")
        code.used = True  # burnt by this attempt, whatever its outcome
        if now > code.issued_at + self._config.code_lifetime_seconds:
            raise OAuthError("invalid_grant", "Authorization code is expired.")
        if redirect_uri != code.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorize request.")
        if code.code_challenge is not None:
            verifier = _required(form, "code_verifier")
            if not pkce.verifier_matches(verifier, code.code_challenge):
                raise OAuthError("invalid_request", BAD_PKCE)
        grant = self._new_grant(client.client_key, code.username, code.scopes, now)
        code.grant_id = grant.id
        return self._issue_pair(grant, now, refresh_expires_at=grant.refresh_expires_at)

    def refresh(self, form: Mapping[str, str], now: float) -> dict[str, Any]:
        client = self.authenticate_client(form)
        presented = self._refresh.get(ids.token_hash(_required(form, "refresh_token")))
        grant = self._grants.get(presented.grant_id) if presented else None
        if presented is None or grant is None or grant.client_key != client.client_key:
            raise OAuthError("invalid_grant", "Refresh token is invalid.")
        if grant.revoked:
            raise OAuthError("invalid_grant", "Refresh token has been revoked.")
        if presented.rotated_at is not None and (
            now > presented.rotated_at + self._config.refresh_grace_seconds
        ):
            if self._config.refresh_reuse_revokes_grant:
                self._revoke_grant(grant.id)
            raise OAuthError("invalid_grant", "Refresh token has already been used.")
        if now >= presented.expires_at:
            raise OAuthError("invalid_grant", "Refresh token is expired.")
        presented.rotated_at = now
        expires_at = (
            now + self._config.refresh_token_lifetime_seconds
            if self._config.refresh_restarts_lifetime
            else presented.expires_at
        )
        return self._issue_pair(grant, now, refresh_expires_at=expires_at)

    def revoke(self, form: Mapping[str, str]) -> None:
        """Kill the access token's whole grant; unknown tokens are ignored (RFC 7009)."""
        client = self.authenticate_client(form)
        token = self._access.get(ids.token_hash(_required(form, "token")))
        if token is None:
            return
        grant = self._grants[token.grant_id]
        if grant.client_key == client.client_key:
            self._revoke_grant(grant.id)

    def authenticate_client(self, form: Mapping[str, str]) -> ClientConfig:
        client_key = form.get("client_key")
        secret = form.get("client_secret")
        if not client_key or not secret:
            raise OAuthError("invalid_request", MISSING_PARAMETER)
        client = self._clients(client_key)
        if client is None or not hmac.compare_digest(
            secret.encode(), client.client_secret.encode()
        ):
            raise OAuthError("invalid_client", "Client key or secret is invalid.")
        return client

    # -- tokens ----------------------------------------------------------------------

    def grant_tokens(
        self, client_key: str, username: str, scopes: tuple[str, ...], now: float
    ) -> dict[str, Any]:
        """Test shortcut: the token response a completed consent would have produced."""
        grant = self._new_grant(client_key, username, scopes, now)
        return self._issue_pair(grant, now, refresh_expires_at=grant.refresh_expires_at)

    def caller(self, bearer: str, now: float) -> Caller:
        token_hash = ids.token_hash(bearer)
        token = self._access.get(token_hash)
        grant = self._grants.get(token.grant_id) if token else None
        if token is None or grant is None or grant.revoked:
            raise ApiError("access_token_invalid", "The access token is invalid or not found.")
        if now >= token.expires_at:
            raise ApiError("access_token_invalid", "The access token has expired.")
        client = self._clients(grant.client_key)
        if client is None:
            raise ApiError("access_token_invalid", "The client of this token is gone.")
        return Caller(
            token_hash=token_hash,
            client=client,
            username=grant.username,
            open_id=ids.open_id(grant.client_key, grant.username),
            scopes=frozenset(grant.scopes),
        )

    def revoke_user(self, client_key: str, username: str) -> int:
        """Revoke every grant this user gave this client; returns how many there were."""
        matching = [
            grant.id
            for grant in self._grants.values()
            if grant.client_key == client_key and grant.username == username and not grant.revoked
        ]
        for grant_id in matching:
            self._revoke_grant(grant_id)
        return len(matching)

    def clear(self) -> None:
        self._codes.clear()
        self._grants.clear()
        self._access.clear()
        self._refresh.clear()

    def _new_grant(
        self, client_key: str, username: str, scopes: tuple[str, ...], now: float
    ) -> Grant:
        self._records.next_grant_id += 1
        grant = Grant(
            id=self._records.next_grant_id,
            client_key=client_key,
            username=username,
            scopes=scopes,
            refresh_expires_at=now + self._config.refresh_token_lifetime_seconds,
        )
        self._grants[grant.id] = grant
        return grant

    def _issue_pair(self, grant: Grant, now: float, *, refresh_expires_at: float) -> dict[str, Any]:
        access = ids.access_token()
        refresh = ids.refresh_token()
        lifetime = self._config.access_token_lifetime_seconds
        self._access[ids.token_hash(access)] = AccessToken(grant.id, now + lifetime)
        self._refresh[ids.token_hash(refresh)] = RefreshToken(grant.id, refresh_expires_at)
        return {
            "access_token": access,
            "expires_in": lifetime,
            "open_id": ids.open_id(grant.client_key, grant.username),
            "refresh_expires_in": max(0, int(refresh_expires_at - now)),
            "refresh_token": refresh,
            "scope": ",".join(grant.scopes),
            "token_type": "Bearer",
        }

    def _revoke_grant(self, grant_id: int) -> None:
        grant = self._grants.get(grant_id)
        if grant is not None:
            grant.revoked = True


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError("invalid_request", MISSING_PARAMETER)
    return value
