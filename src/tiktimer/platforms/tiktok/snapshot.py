"""What the publisher reads about a post before calling TikTok, in one autocommit read.

The post with its account (and the account's stored token), the post's media, and the
account's other posts around this one (the 24-hour budget). Core statements on an autocommit
connection: no ORM objects, no BEGIN/ROLLBACK, and on PostgreSQL straight through asyncpg
(`FastQuery`), the media and the budget as subqueries of the post's row (elsewhere three
reads). This runs once per publication, so its round trips are the worker's budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, and_, bindparam, case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.db.dialect import aggregates_rows, ordered_json_agg
from tiktimer.db.fastread import FastQuery
from tiktimer.models import Media, Post, PostMedia, SocialAccount
from tiktimer.platforms.tiktok.budget import COUNTED_STATUSES, WINDOW, Budget, busiest_window
from tiktimer.platforms.tiktok.preflight import AccountFacts, MediaFacts, PostSettings
from tiktimer.platforms.tokens import StoredAccount

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


def _pg_media_rows() -> Any:
    """The post's media as one JSON array of `_MEDIA` rows, in their order."""
    row = func.json_build_array(*_MEDIA.statement.selected_columns)
    rows = (
        select(ordered_json_agg(row, _links.position))
        .select_from(Media.__table__.join(PostMedia.__table__, _links.media_id == _media.id))
        .where(_links.post_id == _posts.id)
        .scalar_subquery()
    )
    return type_coerce(rows, JSON).label("media_rows")


def _pg_budget_times() -> Any:
    """`_budget_statement`'s times for the post's own mode, as an array."""
    other = Post.__table__.alias("other").c
    when = func.coalesce(other.published_at, other.scheduled_time)
    inbox = bindparam("inbox", type_=String)
    same_mode = case(
        (_posts.post_mode == inbox, other.post_mode == inbox), else_=other.post_mode != inbox
    )
    counted = or_(*(other.status == bindparam(f"status_{s}") for s in COUNTED_STATUSES))
    times = select(func.array_agg(when)).where(
        other.social_account_id == _posts.social_account_id,
        counted,
        same_mode,
        when > bindparam("since"),
        when < bindparam("until"),
        other.id != _posts.id,
    )
    return times.scalar_subquery().label("budget_times")


_PG_SNAPSHOT = FastQuery(_post_statement().add_columns(_pg_media_rows(), _pg_budget_times()))
"""Where `aggregates_rows` (PostgreSQL): the three reads in one."""


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
    read = _read_in_one if aggregates_rows(connection) else _read_in_three
    return await read(connection, post_id, at=at, caps=caps)


async def _read_in_three(
    connection: AsyncConnection, post_id: int, *, at: datetime, caps: tuple[int, int]
) -> Snapshot | None:
    rows = await _POST.fetch(connection, {"post_id": post_id})
    if not rows:
        return None
    row = dict(zip(_POST.keys, rows[0], strict=True))
    settings = PostSettings(**{name: row[name] for name in _SETTINGS})
    media = _media_facts(await _MEDIA.fetch(connection, {"post_id": post_id}))
    if row["account_id"] is None:
        return Snapshot(settings, None, media, None)
    params = _budget_params(row["account_id"], post_id, at)
    others = [r[0] for r in await _BUDGET[settings.post_mode == "inbox"].fetch(connection, params)]
    return _snapshot(row, settings, media, others, at=at, caps=caps)


async def _read_in_one(
    connection: AsyncConnection, post_id: int, *, at: datetime, caps: tuple[int, int]
) -> Snapshot | None:
    params = _budget_params(None, post_id, at)
    rows = await _PG_SNAPSHOT.fetch(connection, params)
    if not rows:
        return None
    row = dict(zip(_PG_SNAPSHOT.keys, rows[0], strict=True))
    settings = PostSettings(**{name: row[name] for name in _SETTINGS})
    media = _media_facts(row["media_rows"] or [])
    if row["account_id"] is None:
        return Snapshot(settings, None, media, None)
    others = list(row["budget_times"] or [])
    return _snapshot(row, settings, media, others, at=at, caps=caps)


def _budget_params(account_id: int | None, post_id: int, at: datetime) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "inbox": "inbox",
        "since": at - WINDOW,
        "until": at + WINDOW,
        "post_id": post_id,
        **{f"status_{s}": str(s) for s in COUNTED_STATUSES},
    }


def _media_facts(rows: Sequence[Sequence[Any]]) -> list[MediaFacts]:
    return [
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
        for m in rows
    ]


def _snapshot(
    row: dict[str, Any],
    settings: PostSettings,
    media: list[MediaFacts],
    others: list[datetime],
    *,
    at: datetime,
    caps: tuple[int, int],
) -> Snapshot:
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
    budget = Budget(cap=caps[1] if inbox else caps[0], used=busiest_window(at, others))
    return Snapshot(settings, account, media, budget, stored)
