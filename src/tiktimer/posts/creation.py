"""A new post's row, built from the request body before anything is written.

Pre-flight judges the post before its INSERT, so it needs the values the row will hold:
the client's, and the columns' defaults for what the client left out (the same defaults
the INSERT applies, read from the table, so the two cannot drift apart).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tiktimer.models import Post
from tiktimer.platforms.tiktok.preflight import PostSettings
from tiktimer.posts.schemas import PostCreate

_posts = Post.__table__
# Every column a client may set on create, besides the schedule and the account.
CLIENT_COLUMNS = tuple(
    name
    for name in PostCreate.model_fields
    if name in _posts.c and name not in ("scheduled_time", "social_account_id")
)


def _scalar_default(name: str) -> Any:
    default = _posts.c[name].default
    return default.arg if default is not None and default.is_scalar else None


_SETTINGS_DEFAULTS = {name: _scalar_default(name) for name in PostSettings.__dataclass_fields__}


def new_row(data: PostCreate, *, user_id: int, scheduled_time: datetime) -> dict[str, Any]:
    """The columns the client decides (None: the column's default applies)."""
    row: dict[str, Any] = {"user_id": user_id, "scheduled_time": scheduled_time}
    for name in CLIENT_COLUMNS:
        value = getattr(data, name)
        if value is not None:
            row[name] = value
    return row


def settings_of(row: dict[str, Any]) -> PostSettings:
    """The TikTok settings the row will hold once inserted, defaults included."""
    values = {name: row.get(name, default) for name, default in _SETTINGS_DEFAULTS.items()}
    return PostSettings(**values)
