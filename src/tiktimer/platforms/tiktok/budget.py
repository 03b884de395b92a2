"""TikTok's 24-hour caps per account, counted against the posts TikTimer already has lined up.

TikTok counts a creator's API posts in a rolling 24 hours ("typically around 15" direct
posts, at most 5 pending inbox drafts; reference §7). A new post is fine when no 24-hour
window that contains it holds more than the cap, counting the posts already scheduled,
paused (they go out when resumed), publishing, published or unconfirmed (TikTok may have
it) for the same account. Posts made outside TikTimer are not known
here; creator_info's `spam_risk_too_many_posts` reports those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import Post, PostStatus

WINDOW = timedelta(hours=24)
COUNTED_STATUSES = (
    PostStatus.scheduled,
    PostStatus.paused,
    PostStatus.publishing,
    PostStatus.published,
    PostStatus.unconfirmed,
)


@dataclass(frozen=True, slots=True)
class Budget:
    cap: int
    used: int
    """Most posts in one 24-hour window that contains this post, this post included."""

    @property
    def remaining(self) -> int:
        return max(0, self.cap - self.used)


def busiest_window(at: datetime, others: Sequence[datetime]) -> int:
    """The largest number of posts (this one at `at` included) in a 24 h window holding `at`."""
    times = sorted(t for t in others if at - WINDOW < t < at + WINDOW)
    best = 1
    for start in [t for t in times if t <= at] + [at]:
        inside = sum(1 for t in times if start <= t < start + WINDOW)
        best = max(best, inside + (1 if start <= at < start + WINDOW else 0))
    return best


async def account_budget(
    session: AsyncSession,
    *,
    account_id: int,
    at: datetime,
    inbox: bool,
    cap: int,
    exclude_post_id: int | None,
) -> Budget:
    """How full the 24 hours around `at` are for this account's direct posts (or drafts)."""
    when = func.coalesce(Post.published_at, Post.scheduled_time)
    statement = select(when).where(
        Post.social_account_id == account_id,
        Post.status.in_([str(s) for s in COUNTED_STATUSES]),
        (Post.post_mode == "inbox") if inbox else (Post.post_mode != "inbox"),
        when > at - WINDOW,
        when < at + WINDOW,
    )
    if exclude_post_id is not None:
        statement = statement.where(Post.id != exclude_post_id)
    others = list((await session.scalars(statement)).all())
    return Budget(cap=cap, used=busiest_window(at, others))
