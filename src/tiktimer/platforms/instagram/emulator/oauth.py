"""Business Login for Instagram (§2): authorize, code → short-lived token, long-lived
exchange and refresh, and the token check every Graph call starts with.

Rules enforced: exact `redirect_uri`, `response_type=code`, comma- (or space-) separated
scopes with `instagram_business_basic` and none of the names retired on 2025-01-27; codes
single use for 1 h, exchanged only by a POST form with the app secret; short tokens 1 h;
`ig_exchange_token` only for short tokens and only with the app secret; `ig_refresh_token`
only for unexpired long tokens at least 24 h old, each refresh a fresh 60 days.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import ids
from .config import EmulatorConfig
from .errors import (
    TOKEN_TOO_NEW_CODE,
    AuthorizeRefused,
    GraphError,
    expired_token,
    invalid_parameter,
    invalid_token,
)
from .state import AuthCode, State, Token, TokenKind

BASIC = "instagram_business_basic"
PUBLISH = "instagram_business_content_publish"
SCOPES = frozenset(
    {
        BASIC,
        PUBLISH,
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
        "instagram_business_manage_insights",
    }
)
RETIRED = re.compile(r"^business_")  # §2.1: stopped working on 2025-01-27


@dataclass(frozen=True)
class AuthorizeRequest:
    app_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None


def check_authorize(config: EmulatorConfig, params: Mapping[str, str]) -> AuthorizeRequest:
    app = config.app(params.get("client_id", ""))
    if app is None:
        raise AuthorizeRefused("Invalid client_id: no app with this id.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        raise AuthorizeRefused("redirect_uri does not match a registered URI exactly.")
    if params.get("response_type") != "code":
        raise AuthorizeRefused("response_type must be code.")
    scopes = parse_scopes(params.get("scope", ""))
    return AuthorizeRequest(app.app_id, redirect_uri, scopes, params.get("state"))


def parse_scopes(raw: str) -> tuple[str, ...]:
    names = tuple(name for name in re.split(r"[,\s]+", raw.strip()) if name)
    retired = [name for name in names if RETIRED.match(name)]
    if retired:
        raise AuthorizeRefused(f"Scopes retired on 2025-01-27: {', '.join(retired)}.")
    unknown = [name for name in names if name not in SCOPES]
    if unknown:
        raise AuthorizeRefused(f"Invalid scope: {', '.join(unknown)}.")
    if BASIC not in names:
        raise AuthorizeRefused(f"The scope {BASIC} is required.")
    return names


def issue_code(
    state: State, config: EmulatorConfig, request: AuthorizeRequest, user_id: str, now: float
) -> str:
    code = ids.auth_code()
    state.codes[ids.secret_hash(code)] = AuthCode(
        app_id=request.app_id,
        redirect_uri=request.redirect_uri,
        user_id=user_id,
        permissions=request.scopes,
        expires_at=now + config.code_seconds,
    )
    return code


def exchange_code(
    state: State, config: EmulatorConfig, form: Mapping[str, str], now: float
) -> dict[str, Any]:
    """`POST api.instagram.com/oauth/access_token` (form) → the short-lived token."""
    app = _authenticated_app(config, form.get("client_id", ""), form.get("client_secret", ""))
    if form.get("grant_type") != "authorization_code":
        raise invalid_parameter("grant_type must be authorization_code.")
    record = state.codes.get(ids.secret_hash(form.get("code", "")))
    if record is None or record.app_id != app:
        raise invalid_parameter("Invalid authorization code.")
    if record.used:
        raise invalid_parameter("This authorization code has been used.")
    if now >= record.expires_at:
        raise invalid_parameter("This authorization code has expired.")
    if form.get("redirect_uri") != record.redirect_uri:
        raise invalid_parameter("redirect_uri does not match the one used to authorize.")
    record.used = True
    token = _issue(
        state,
        app,
        record.user_id,
        TokenKind.SHORT,
        record.permissions,
        now,
        config.short_token_seconds,
    )
    body = {
        "access_token": token,
        "user_id": record.user_id,
        "permissions": list(record.permissions),
    }
    return body


def exchange_long_lived(
    state: State, config: EmulatorConfig, params: Mapping[str, str], now: float
) -> dict[str, Any]:
    """`GET graph.instagram.com/access_token?grant_type=ig_exchange_token` (§2.3)."""
    if params.get("grant_type") != "ig_exchange_token":
        raise invalid_parameter("grant_type must be ig_exchange_token.")
    token = caller(state, params.get("access_token", ""), now)
    app = config.app(token.app_id)
    if app is None or params.get("client_secret") != app.app_secret:
        raise invalid_parameter("Error validating client secret.")
    if token.kind is not TokenKind.SHORT:
        raise invalid_parameter("Only a short-lived token can be exchanged.")
    return _bearer(state, token, now, config.long_token_seconds, revoke_old=False)


def refresh(
    state: State, config: EmulatorConfig, params: Mapping[str, str], now: float
) -> dict[str, Any]:
    """`GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token` (§2.3)."""
    if params.get("grant_type") != "ig_refresh_token":
        raise invalid_parameter("grant_type must be ig_refresh_token.")
    token = caller(state, params.get("access_token", ""), now)
    if token.kind is not TokenKind.LONG:
        raise invalid_parameter("Only a long-lived token can be refreshed.")
    if now - token.issued_at < config.refresh_min_age_seconds:
        raise GraphError(TOKEN_TOO_NEW_CODE, "The access token must be at least 24 hours old.")
    return _bearer(
        state, token, now, config.long_token_seconds, revoke_old=config.refresh_revokes_old
    )


def caller(state: State, raw: str, now: float) -> Token:
    """The token behind a call: unknown or revoked → 190/467, expired → 190/463."""
    token = state.tokens.get(ids.secret_hash(raw)) if raw else None
    if token is None or token.revoked:
        raise invalid_token()
    if now >= token.expires_at:
        raise expired_token()
    return token


def _bearer(
    state: State, old: Token, now: float, seconds: float, *, revoke_old: bool
) -> dict[str, Any]:
    token = _issue(state, old.app_id, old.user_id, TokenKind.LONG, old.permissions, now, seconds)
    if revoke_old:
        old.revoked = True
    return {"access_token": token, "token_type": "bearer", "expires_in": int(seconds)}


def _issue(
    state: State,
    app_id: str,
    user_id: str,
    kind: TokenKind,
    permissions: tuple[str, ...],
    now: float,
    seconds: float,
) -> str:
    value = ids.access_token()
    state.tokens[ids.secret_hash(value)] = Token(
        app_id, user_id, kind, permissions, issued_at=now, expires_at=now + seconds
    )
    return value


def _authenticated_app(config: EmulatorConfig, app_id: str, secret: str) -> str:
    app = config.app(app_id)
    if app is None:
        raise invalid_parameter("Invalid platform app.")
    if secret != app.app_secret:
        raise invalid_parameter("Error validating client secret.")
    return app.app_id
