"""TikTok behind the platform contract: the registry's `tiktok` entry.

The publisher, creator_info, pre-flight rules and fail-reason words are TikTok's own
modules beside this one; `TikTokPlatform` only puts them behind `Platform`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktimer.config import Settings
from tiktimer.platforms.contract import PublishIdSink, PublishJob, PublishOutcome
from tiktimer.platforms.preflight_report import PreflightReport
from tiktimer.platforms.registry import PlatformParts, PlatformSpec
from tiktimer.platforms.tiktok import buckets, fail_reasons
from tiktimer.platforms.tiktok.parts import Connector, TikTokParts
from tiktimer.platforms.tiktok.preflight import CreatorLookup, evaluate
from tiktimer.platforms.tiktok.scopes import DIRECT_POST_SCOPE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tiktimer.platforms.tiktok.creator_info import CreatorInfoSource
    from tiktimer.platforms.tiktok.publisher import TikTokPublisher
    from tiktimer.platforms.tokens import TokenSource


def rate_buckets(settings: Settings) -> dict[str, int]:
    return {
        buckets.INIT_BUCKET: settings.tiktok.rate_limit_init,
        buckets.STATUS_BUCKET: settings.tiktok.rate_limit_status,
        buckets.CREATOR_INFO_BUCKET: settings.tiktok.rate_limit_creator_info,
    }


class TikTokPlatform:
    name = "tiktok"
    title = "TikTok"
    status_bucket = buckets.STATUS_BUCKET

    def __init__(
        self,
        settings: Settings,
        publisher: TikTokPublisher,
        tokens: TokenSource,
        creators: CreatorInfoSource,
        connector: Connector,
    ) -> None:
        self._buckets = rate_buckets(settings)
        self.publisher = publisher
        self.tokens = tokens
        self.creators = creators
        self.connector = connector

    def rate_buckets(self) -> dict[str, int]:
        return dict(self._buckets)

    def start_buckets(self, post_mode: str | None) -> tuple[str, ...]:
        return buckets.start_buckets(post_mode)

    async def start(self, job: PublishJob, on_publish_id: PublishIdSink) -> str:
        return await self.publisher.start(job, on_publish_id)

    async def check(self, job: PublishJob, publish_id: str) -> PublishOutcome:
        return await self.publisher.check(job, publish_id)

    async def connect(self, user_id: int, **details: Any) -> str:
        """TikTok's OAuth: the authorization URL the user must open (`session` required)."""
        session: AsyncSession = details["session"]
        return await self.connector.start(session, user_id)

    async def refresh(self, account_id: int) -> object:
        self.publisher.forget_token(account_id)
        return await self.tokens.refresh(account_id)

    async def prefetch(self, account: Any) -> CreatorLookup | None:
        if DIRECT_POST_SCOPE not in account.scopes.split(","):
            return None  # the account checks say why; creator_info would only fail
        return await self.creators.lookup(account.id)

    def validate(self, post: Any, facts: Any) -> PreflightReport:
        return evaluate(post, facts)

    def describe_failure(self, fail_reason: str | None) -> str:
        return fail_reasons.describe(fail_reason)


def build(parts: PlatformParts) -> TikTokPlatform:
    tiktok = parts.shared.get(TikTokParts)
    return TikTokPlatform(
        parts.settings,
        tiktok.publisher(parts.pacer),
        parts.tokens,
        tiktok.creators,
        tiktok.connector,
    )


spec = PlatformSpec(name="tiktok", rate_buckets=rate_buckets, build=build)
