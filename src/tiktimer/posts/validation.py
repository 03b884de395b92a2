"""Pre-flight for posts being created or edited, and for `POST /api/v1/tiktok/posts/validate`.

The rules are the account's platform's (`Platform.prefetch` and `Platform.validate`, found
in the registry by `social_accounts.platform`); a post without an account is judged by the
default platform's rules, which say that it needs one.

The TikTok call (creator_info) happens in `prefetch`, before the request's session touches
the database: a request then never holds a transaction, or two pooled connections, while
it waits for TikTok. `check` runs afterwards inside the request's session, stores the
report on the post (`validation`) and refuses a scheduled post that cannot publish as it
stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.errors import Unprocessable
from tiktimer.models import AccountStatus, Post, SocialAccount
from tiktimer.platforms.contract import Platform
from tiktimer.platforms.registry import Platforms
from tiktimer.platforms.tiktok import facts as load
from tiktimer.platforms.tiktok.creator_info import CreatorInfoSource
from tiktimer.platforms.tiktok.preflight import (
    AccountFacts,
    CreatorLookup,
    Facts,
    MediaFacts,
    PostLike,
    PreflightReport,
)


class PostValidator:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        creators: CreatorInfoSource,
        *,
        daily_post_cap: int = 15,
        pending_share_cap: int = 5,
        photo_urls_https: bool = True,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.creators = creators
        self.caps = (daily_post_cap, pending_share_cap)
        self.photo_urls_https = photo_urls_https
        self.platforms: Platforms | None = None  # set once the registry is built

    def platform(self, name: str | None) -> Platform:
        assert self.platforms is not None, "the validator's platforms were never set"
        if name is None:
            return self.platforms.get(self.platforms.names()[0])
        return self.platforms.get(name)

    async def prefetch(
        self, user_id: int, account_id: int | None, *, post_id: int | None = None
    ) -> CreatorLookup | None:
        """What the account's platform needs first (TikTok: creator_info, cached briefly)."""
        if account_id is None and post_id is None:
            return None  # no account: nothing to ask, and no session to open
        async with self.sessionmaker() as session:
            if account_id is None and post_id is not None:
                account_id = await session.scalar(
                    select(Post.social_account_id).where(
                        Post.id == post_id, Post.user_id == user_id
                    )
                )
            if account_id is None:
                return None
            account = await session.scalar(
                select(SocialAccount).where(
                    SocialAccount.id == account_id, SocialAccount.user_id == user_id
                )
            )
        if account is None or account.status != AccountStatus.active:
            return None  # the account checks say why; the platform's call would only fail
        prefetched: CreatorLookup | None = await self.platform(account.platform).prefetch(account)
        return prefetched

    async def report(
        self,
        session: AsyncSession,
        post: PostLike,
        *,
        user_id: int,
        account_id: int | None,
        media: Sequence[MediaFacts],
        at: datetime,
        creator: CreatorLookup | None,
        exclude_post_id: int | None = None,
    ) -> PreflightReport:
        account = await load.load_account(session, user_id, account_id)
        return await self.judge(
            session,
            post,
            account=account,
            media=media,
            at=at,
            creator=creator,
            exclude_post_id=exclude_post_id,
        )

    async def judge(
        self,
        session: AsyncSession,
        post: PostLike,
        *,
        account: AccountFacts | None,
        media: Sequence[MediaFacts],
        at: datetime,
        creator: CreatorLookup | None,
        exclude_post_id: int | None = None,
    ) -> PreflightReport:
        """`report` with the account's facts already read (a create reads them once)."""
        facts = Facts(
            account=account,
            media=media,
            creator=creator,
            budget=await load.load_budget(
                session,
                account,
                at=at,
                inbox=post.post_mode == "inbox",
                caps=self.caps,
                exclude_post_id=exclude_post_id,
            ),
            photo_urls_https=self.photo_urls_https,
        )
        rules = self.platform(account.platform if account else None)
        report: PreflightReport = rules.validate(post, facts)
        return report

    async def check(
        self,
        session: AsyncSession,
        post: Post,
        creator: CreatorLookup | None,
        *,
        enforce: bool,
    ) -> PreflightReport:
        """Judge a flushed post, store the report on it; 422 when `enforce` (the post will
        go out when due) and it cannot publish as it stands: every reason, missing media
        or account included (issue 13; drafts may stay incomplete)."""
        media = await load.load_post_media(session, post.id)
        report = await self.report(
            session,
            post,
            user_id=post.user_id,
            account_id=post.social_account_id,
            media=media,
            at=post.scheduled_time,
            creator=creator,
            exclude_post_id=post.id,
        )
        post.validation = report.as_json()
        if enforce and report.errors:
            raise Unprocessable(field_errors(report))
        return report


def field_errors(report: PreflightReport) -> list[dict[str, Any]]:
    """The report's errors in FastAPI's 422 shape, one entry per reason."""
    return [
        {"loc": ["body", issue.field], "msg": issue.message, "type": issue.code}
        for issue in report.errors
    ]
