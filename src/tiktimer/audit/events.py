"""Event names, outcomes, and the one function that turns them into a bounded row.

Nothing secret is ever passed here: callers give ids, addresses and short reasons, never a
password, token, authorization code or the identifier someone typed (it may be a password).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.kit.time import utc_now
from tiktimer.models import AuditEvent

MAX_DETAIL_KEYS = 16
MAX_TEXT = 200


class Event(StrEnum):
    login = "auth.login"
    lockout = "auth.lockout"
    logout = "auth.logout"
    password_changed = "auth.password_changed"
    refresh_reuse = "auth.refresh_reuse"
    tiktok_connected = "tiktok.connected"
    tiktok_disconnected = "tiktok.disconnected"
    tiktok_reauth_required = "tiktok.reauth_required"
    webhook_authorization_removed = "webhook.authorization_removed"
    admin_user_updated = "admin.user_updated"


class Outcome(StrEnum):
    success = "success"
    failure = "failure"
    # A guard stopped it (a lockout, a refused admin change).
    blocked = "blocked"


Detail = dict[str, str | int | float | bool | None]


class Who(TypedDict, total=False):
    """Who did it, to what, from where, and the event's own facts (all optional)."""

    actor_user_id: int | None
    subject: str | None
    address: str | None
    detail: Detail | None


def entry(event: Event, outcome: Outcome = Outcome.success, **who: Unpack[Who]) -> dict[str, Any]:
    """The row's values; strings are cut short and NUL-free, so the insert cannot fail on them."""
    return {
        "at": utc_now(),
        "event": event.value,
        "outcome": outcome.value,
        "actor_user_id": who.get("actor_user_id"),
        "subject": _text(who.get("subject"), 128),
        "address": _text(who.get("address"), 64),
        "detail": _detail(who.get("detail") or {}),
    }


def add(
    session: AsyncSession, event: Event, outcome: Outcome = Outcome.success, **who: Unpack[Who]
) -> None:
    """Record in `session`'s transaction: kept if and only if the change it describes commits."""
    session.add(AuditEvent(**entry(event, outcome, **who)))


def _text(value: str | None, limit: int) -> str | None:
    return None if value is None else value.replace("\x00", "")[:limit]


def _detail(detail: Detail) -> dict[str, Any]:
    bounded: dict[str, Any] = {}
    for key, value in list(detail.items())[:MAX_DETAIL_KEYS]:
        bounded[key[:64]] = _text(value, MAX_TEXT) if isinstance(value, str) else value
    return bounded
