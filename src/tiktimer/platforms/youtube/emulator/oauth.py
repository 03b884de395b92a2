"""Google OAuth 2.0 as the emulator plays it: consent, codes with PKCE, tokens, revocation."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .config import ClientConfig, EmulatorConfig
from .errors import OAuthError, invalid_grant, unauthorized
from .models import AccessToken, AuthCode, Grant, State, token_hash

VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class AuthorizeRefused(Exception):
    """Google shows its own error page instead of redirecting (bad client or redirect)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    offline: bool
    challenge: str | None
    challenge_method: str
    prompt_consent: bool = False


def read_consent_request(config: EmulatorConfig, params: dict[str, str]) -> ConsentRequest:
    client = config.client(params.get("client_id", ""))
    if client is None:
        raise AuthorizeRefused("invalid_client", "The OAuth client was not found.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise AuthorizeRefused("redirect_uri_mismatch", "The redirect_uri is not registered.")
    if params.get("response_type") != "code":
        raise AuthorizeRefused("unsupported_response_type", "response_type must be code.")
    scopes = tuple(params.get("scope", "").split())
    if not scopes or any("," in s for s in scopes):
        raise AuthorizeRefused("invalid_scope", "scope must be space-delimited scope URLs.")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or "plain"
    if method not in ("S256", "plain") or (challenge and not VERIFIER.fullmatch(challenge)):
        raise AuthorizeRefused("invalid_request", "Invalid code_challenge.")
    return ConsentRequest(
        client.client_id,
        redirect_uri,
        scopes,
        params.get("state"),
        params.get("access_type") == "offline",
        challenge,
        method,
        "consent" in params.get("prompt", "").split(),
    )


def issue_code(
    state: State,
    config: EmulatorConfig,
    request: ConsentRequest,
    login: str,
    granted: tuple[str, ...],
) -> str:
    code = "4/" + secrets.token_urlsafe(32)
    state.codes[token_hash(code)] = AuthCode(
        request.client_id,
        request.redirect_uri,
        login,
        granted,
        request.offline,
        request.challenge,
        request.challenge_method,
        config.clock() + timedelta(seconds=config.code_seconds),
        request.prompt_consent,
    )
    return code


def authenticate_client(config: EmulatorConfig, form: dict[str, str]) -> ClientConfig:
    client = config.client(form.get("client_id", ""))
    if client is None or not secrets.compare_digest(
        client.client_secret, form.get("client_secret", "")
    ):
        raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
    return client


def exchange_code(state: State, config: EmulatorConfig, form: dict[str, str]) -> dict[str, Any]:
    client = authenticate_client(config, form)
    code = state.codes.get(token_hash(form.get("code", "")))
    now = config.clock()
    if (
        code is None
        or code.used
        or code.expires_at <= now
        or code.client_id != client.client_id
        or code.redirect_uri != form.get("redirect_uri")
    ):
        raise OAuthError("invalid_grant", "Malformed auth code.")
    code.used = True  # single use, even when the verifier is wrong
    if code.challenge is not None and not _verifier_matches(code, form.get("code_verifier", "")):
        raise OAuthError("invalid_grant", "Invalid code verifier.")
    # Google hands out a refresh token on the first offline consent of a (channel, client),
    # and again only when the consent screen was forced (`prompt=consent`).
    first = not any(
        g.offline and not g.revoked and (g.client_id, g.login) == (client.client_id, code.login)
        for g in state.grants.values()
    )
    offline = code.offline and (first or code.prompt_consent)
    grant = Grant(
        "g-" + secrets.token_hex(8), client.client_id, code.login, code.scopes, now, offline
    )
    state.grants[grant.id] = grant
    body = _access(state, config, grant, now)
    if offline:
        refresh = "1//" + secrets.token_urlsafe(48)
        state.refresh_tokens[token_hash(refresh)] = grant.id
        body["refresh_token"] = refresh
    return body


def refresh(state: State, config: EmulatorConfig, form: dict[str, str]) -> dict[str, Any]:
    client = authenticate_client(config, form)
    grant_id = state.refresh_tokens.get(token_hash(form.get("refresh_token", "")))
    grant = state.grants.get(grant_id or "")
    now = config.clock()
    if grant is None or grant.revoked or grant.client_id != client.client_id:
        raise invalid_grant()
    lifetime = config.refresh_token_seconds
    if lifetime is not None and (now - grant.created_at).total_seconds() >= lifetime:
        raise invalid_grant()  # an app in "Testing" loses its refresh tokens after 7 days
    return _access(state, config, grant, now)


def revoke(state: State, token: str) -> None:
    digest = token_hash(token)
    grant_id = state.refresh_tokens.get(digest)
    if grant_id is None and (access := state.access_tokens.get(digest)):
        grant_id = access.grant_id
    grant = state.grants.get(grant_id or "")
    if grant is None or grant.revoked:
        raise OAuthError("invalid_token", "Token expired or revoked")  # UNCONFIRMED shape
    grant.revoked = True
    for key in [k for k, v in state.access_tokens.items() if v.grant_id == grant.id]:
        del state.access_tokens[key]


def grant_for(state: State, config: EmulatorConfig, authorization: str | None) -> Grant:
    """The grant behind a Bearer token, or 401 as Google answers a bad token."""
    scheme, _, token = (authorization or "").partition(" ")
    access = state.access_tokens.get(token_hash(token.strip())) if scheme == "Bearer" else None
    grant = state.grants.get(access.grant_id) if access else None
    if access is None or grant is None or grant.revoked or access.expires_at <= config.clock():
        raise unauthorized()
    return grant


def _access(state: State, config: EmulatorConfig, grant: Grant, now: datetime) -> dict[str, Any]:
    token = "ya29." + secrets.token_urlsafe(48)
    expires = now + timedelta(seconds=config.access_token_seconds)
    state.access_tokens[token_hash(token)] = AccessToken(grant.id, expires)
    return {
        "access_token": token,
        "expires_in": config.access_token_seconds,
        "token_type": "Bearer",
        "scope": " ".join(grant.scopes),
    }


def _verifier_matches(code: AuthCode, verifier: str) -> bool:
    if not VERIFIER.fullmatch(verifier):
        return False
    if code.challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return secrets.compare_digest(expected, code.challenge or "")
