"""Reading what pre-flight judges against from the database: account, media, budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import Media, PostMedia, SocialAccount
from tiktimer.platforms.tiktok.budget import Budget, account_budget
from tiktimer.platforms.tiktok.preflight import AccountFacts, MediaFacts


def account_facts(account: SocialAccount) -> AccountFacts:
    return AccountFacts(
        id=account.id,
        status=account.status,
        status_reason=account.status_reason,
        scopes=tuple(s for s in account.scopes.split(",") if s),
        display_name=account.display_name,
        platform=account.platform,
    )


def media_facts(media: Media) -> MediaFacts:
    verdict = media.verdict or {}
    return MediaFacts(
        id=media.id,
        kind=media.kind,
        content_type=media.content_type,
        size=media.size,
        status=media.status,
        storage_key=media.storage_key,
        probe=dict(media.probe or {}),
        verdict=dict(verdict),
    )


async def load_account(
    session: AsyncSession, user_id: int, account_id: int | None
) -> AccountFacts | None:
    if account_id is None:
        return None
    account = await session.scalar(
        select(SocialAccount).where(
            SocialAccount.id == account_id, SocialAccount.user_id == user_id
        )
    )
    return account_facts(account) if account is not None else None


async def load_media(
    session: AsyncSession, user_id: int, media_ids: Sequence[str]
) -> list[MediaFacts]:
    """The user's media in the order given; ids that are not theirs are left out."""
    if not media_ids:
        return []
    rows = await session.scalars(
        select(Media).where(Media.id.in_(list(media_ids)), Media.user_id == user_id)
    )
    by_id = {media.id: media_facts(media) for media in rows}
    return [by_id[media_id] for media_id in media_ids if media_id in by_id]


async def load_post_media(session: AsyncSession, post_id: int) -> list[MediaFacts]:
    rows = await session.scalars(
        select(Media)
        .join(PostMedia, PostMedia.media_id == Media.id)
        .where(PostMedia.post_id == post_id)
        .order_by(PostMedia.position)
    )
    return [media_facts(media) for media in rows]


async def load_budget(
    session: AsyncSession,
    account: AccountFacts | None,
    *,
    at: datetime,
    inbox: bool,
    caps: tuple[int, int],
    exclude_post_id: int | None,
) -> Budget | None:
    """`caps` is (direct posts, inbox drafts) per 24 hours."""
    if account is None:
        return None
    return await account_budget(
        session,
        account_id=account.id,
        at=at,
        inbox=inbox,
        cap=caps[1] if inbox else caps[0],
        exclude_post_id=exclude_post_id,
    )
