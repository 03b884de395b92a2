"""What the publisher reads about a post before calling TikTok, in three autocommit reads.

The post with its account (and the account's stored token), the post's media, and the
account's other posts around this one (the 24-hour budget). Core statements on an autocommit
connection: no ORM objects, no BEGIN/ROLLBACK, and on PostgreSQL straight through asyncpg
(`FastQuery`). This runs once per publication, so its round trips are the worker's budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.accounts.tokens import StoredAccount
from tiktimer.db.fastread import FastQuery
from tiktimer.models import Media, Post, PostMedia, SocialAccount
from tiktimer.publishing.budget import COUNTED_STATUSES, WINDOW, Budget, busiest_window
from tiktimer.publishing.preflight import AccountFacts, MediaFacts, PostSettings

_posts = Post.__table__.c
_accounts = SocialAccount.__table__.c
_media = Media.__table__.c
_links = PostMedia.__table__.c

_SETTINGS = tuple(PostSettings.__dataclass_fields__)


def _post_statement() -> Any:
    account = SocialAccount.__table__
    return (
        select(
            _posts.user_id,
            *(_posts[name] for name in _SETTINGS),
            _accounts.id.label("account_id"),
            _accounts.status.label("account_status"),
            _accounts.status_reason,
            _accounts.scopes,
            _accounts.display_name,
            _accounts.open_id,
            _accounts.access_token_encrypted,
            _accounts.access_token_expires_at,
        )
        .select_from(
            Post.__table__.outerjoin(
                account,
                and_(_accounts.id == _posts.social_account_id, _accounts.user_id == _posts.user_id),
            )
        )
        .where(_posts.id == bindparam("post_id"))
    )


_POST = FastQuery(_post_statement())
_MEDIA = FastQuery(
    select(
        _media.id,
        _media.kind,
        _media.content_type,
        _media.size,
        _media.status,
        _media.storage_key,
        _media.probe,
        _media.verdict,
    )
    .join_from(Media.__table__, PostMedia.__table__, _links.media_id == _media.id)
    .where(_links.post_id == bindparam("post_id"))
    .order_by(_links.position)
)


def _budget_statement(inbox: bool) -> Any:
    when = func.coalesce(_posts.published_at, _posts.scheduled_time)
    inbox_mode = bindparam("inbox", type_=String)
    mode = _posts.post_mode == inbox_mode if inbox else _posts.post_mode != inbox_mode
    counted = or_(*(_posts.status == bindparam(f"status_{s}") for s in COUNTED_STATUSES))
    return select(when).where(
        _posts.social_account_id == bindparam("account_id"),
        counted,
        mode,
        when > bindparam("since"),
        when < bindparam("until"),
        _posts.id != bindparam("post_id"),
    )


_BUDGET = {inbox: FastQuery(_budget_statement(inbox)) for inbox in (False, True)}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the publisher read about the post before calling TikTok."""

    settings: PostSettings
    account: AccountFacts | None
    media: Sequence[MediaFacts]
    budget: Budget | None
    stored: StoredAccount | None = None  # the account's token columns, for its access token


async def read_snapshot(
    connection: AsyncConnection, post_id: int, *, at: datetime, caps: tuple[int, int]
) -> Snapshot | None:
    """None when the post no longer exists. `caps`: (direct posts, inbox drafts) per 24 h."""
    rows = await _POST.fetch(connection, {"post_id": post_id})
    if not rows:
        return None
    row = dict(zip(_POST.keys, rows[0], strict=True))
    settings = PostSettings(**{name: row[name] for name in _SETTINGS})
    media = [
        MediaFacts(
            id=m[0],
            kind=m[1],
            content_type=m[2],
            size=m[3],
            status=m[4],
            storage_key=m[5],
            probe=dict(m[6] or {}),
            verdict=dict(m[7] or {}),
        )
        for m in await _MEDIA.fetch(connection, {"post_id": post_id})
    ]
    if row["account_id"] is None:
        return Snapshot(settings, None, media, None)
    account = AccountFacts(
        id=row["account_id"],
        status=row["account_status"],
        status_reason=row["status_reason"],
        scopes=tuple(s for s in row["scopes"].split(",") if s),
        display_name=row["display_name"],
    )
    stored = StoredAccount(
        id=row["account_id"],
        open_id=row["open_id"],
        status=row["account_status"],
        status_reason=row["status_reason"],
        access_token_encrypted=row["access_token_encrypted"],
        access_token_expires_at=row["access_token_expires_at"],
    )
    inbox = settings.post_mode == "inbox"
    params = {
        "account_id": account.id,
        "inbox": "inbox",
        "since": at - WINDOW,
        "until": at + WINDOW,
        "post_id": post_id,
        **{f"status_{s}": str(s) for s in COUNTED_STATUSES},
    }
    others = [r[0] for r in await _BUDGET[inbox].fetch(connection, params)]
    budget = Budget(cap=caps[1] if inbox else caps[0], used=busiest_window(at, others))
    return Snapshot(settings, account, media, budget, stored)
