"""The Graph reads and the call admission: token, account, permission, BUC rate limit.

`/me` fields (`user_id`, `username`, `account_type`) follow Instagram Login's IG User;
`account_type` is what the connect-time professional check reads (§1.1; the field's
values BUSINESS / MEDIA_CREATOR / PERSONAL are UNCONFIRMED in the reference).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .config import AccountType, EmulatorConfig
from .containers import publishing_usage, status_of, status_text
from .errors import PERMISSION_CODE, GraphError, invalid_parameter
from .oauth import PUBLISH
from .state import Account, State, Token

HOUR = 3600.0
ME_FIELDS = ("id", "user_id", "username", "account_type")
CONTAINER_FIELDS = ("id", "status_code", "status")
MEDIA_FIELDS = ("id", "media_type", "media_product_type", "permalink", "caption", "timestamp")


def admit(state: State, config: EmulatorConfig, token: Token, now: float) -> dict[str, str]:
    """Count the call against the app-user pair's hourly budget (code 17 past it); return
    the `X-Business-Use-Case-Usage` header."""
    key = f"{token.app_id}:{token.user_id}"
    calls = [at for at in state.calls.get(key, []) if at > now - HOUR]
    percent = min(100, len(calls) * 100 // max(config.calls_per_hour, 1))
    # Minutes until the oldest call leaves the window (Meta reports minutes, §7.2).
    regain = math.ceil((calls[0] + HOUR - now) / 60) if percent >= 100 else 0
    usage = {
        token.user_id: [
            {
                "type": "instagram",
                "call_count": percent,
                "total_cputime": 0,
                "total_time": 0,
                "estimated_time_to_regain_access": regain,
            }
        ]
    }
    header = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    if len(calls) >= config.calls_per_hour:
        state.calls[key] = calls
        raise GraphError(17, "User request limit reached", headers=header)
    calls.append(now)
    state.calls[key] = calls
    return header


def account_of(state: State, token: Token) -> Account:
    account = state.accounts.get(token.user_id)
    if account is None:
        raise GraphError(190, "The user of this token is gone.", subcode=460)
    return account


def publisher_account(state: State, token: Token, user_id: str) -> Account:
    """The account a publishing call names: the token's own, by `user_id`, professional,
    with the publish permission granted."""
    account = account_of(state, token)
    if user_id != account.user_id:
        raise GraphError(
            100,
            f"Unsupported request: object with ID '{user_id}' does not "
            "exist or cannot be loaded for this token.",
            subcode=33,
        )
    if PUBLISH not in token.permissions:
        raise GraphError(PERMISSION_CODE, f"The permission {PUBLISH} was not granted.")
    if account.account_type is AccountType.PERSONAL:
        raise GraphError(PERMISSION_CODE, "Only professional accounts can publish content.")
    return account


def me(state: State, token: Token, fields: str | None) -> dict[str, Any]:
    account = account_of(state, token)
    values = {
        "id": account.scoped_id,
        "user_id": account.user_id,
        "username": account.username,
        "account_type": account.account_type.value,
    }
    return _pick(values, fields, ME_FIELDS, default=("id",))


def node(
    state: State,
    config: EmulatorConfig,
    token: Token,
    node_id: str,
    fields: str | None,
    now: float,
) -> dict[str, Any]:
    container = state.containers.get(node_id)
    if container is not None and container.user_id == token.user_id:
        container.status_polls += 1
        status = status_of(container, config, now)
        values = {
            "id": container.id,
            "status_code": status.value,
            "status": status_text(container, status),
        }
        return _pick(values, fields, CONTAINER_FIELDS, default=("id",))
    media = state.media.get(node_id)
    if media is not None and media.user_id == token.user_id:
        media_values: dict[str, Any] = {
            "id": media.id,
            "media_type": "VIDEO",
            "media_product_type": "REELS",
            "permalink": f"https://www.instagram.com/reel/{media.id}/",
            "caption": media.caption,
            "timestamp": int(media.published_at),
        }
        return _pick(media_values, fields, MEDIA_FIELDS, default=("id",))
    raise GraphError(
        100,
        f"Unsupported get request. Object with ID '{node_id}' does not exist or cannot be loaded.",
        subcode=33,
    )


def publishing_limit(
    state: State, config: EmulatorConfig, user_id: str, fields: str | None, now: float
) -> dict[str, Any]:
    values = {
        "quota_usage": publishing_usage(state, config, user_id, now),
        "config": {
            "quota_total": config.publish_cap,
            "quota_duration": int(config.publish_window_seconds),
        },
    }
    return {"data": [_pick(values, fields, ("quota_usage", "config"), default=("quota_usage",))]}


def _pick(
    values: dict[str, Any], fields: str | None, known: tuple[str, ...], default: tuple[str, ...]
) -> dict[str, Any]:
    names = [name.strip() for name in (fields or "").split(",") if name.strip()] or list(default)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise invalid_parameter(f"Tried accessing nonexisting field ({unknown[0]}).")
    return {name: values[name] for name in names}
