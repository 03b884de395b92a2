"""The publishing parts of a process, built once from settings (by the app and the worker).

`build_publishing(settings, sessionmaker=…, client=…, tokens=…, storage=…)` gives the
creator_info source, the public media URL signer and the pre-flight validator;
`.platforms(pacer)` then builds the registry's platforms around the caller's pacer (the
scheduler asks it for each post's platform); `.publisher(pacer)` is TikTok's publisher alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.accounts.tokens import AccountTokens
from tiktimer.config import Settings
from tiktimer.platforms.contract import Pacer
from tiktimer.platforms.registry import PlatformParts, Platforms
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.creator_info import CreatorInfoSource
from tiktimer.platforms.tiktok.publisher import TikTokPublisher
from tiktimer.publishing.public_media import MediaUrlSigner
from tiktimer.publishing.validation import PostValidator
from tiktimer.storage import Storage


@dataclass(frozen=True)
class PublishingComponents:
    settings: Settings
    client: TikTokClient
    tokens: AccountTokens
    storage: Storage
    sessionmaker: async_sessionmaker[AsyncSession]
    creators: CreatorInfoSource
    media_urls: MediaUrlSigner
    validator: PostValidator
    daily_post_cap: int
    pending_share_cap: int

    def platforms(self, pacer: Pacer) -> Platforms:
        return Platforms.build(
            PlatformParts(
                settings=self.settings,
                sessionmaker=self.sessionmaker,
                tokens=self.tokens,
                storage=self.storage,
                pacer=pacer,
                publishing=self,
            )
        )

    def publisher(self, pacer: Pacer) -> TikTokPublisher:
        return TikTokPublisher(
            self.client,
            self.tokens,
            self.storage,
            self.sessionmaker,
            pacer,
            creators=self.creators,
            media_urls=self.media_urls,
            daily_post_cap=self.daily_post_cap,
            pending_share_cap=self.pending_share_cap,
        )


def build_publishing(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: TikTokClient,
    tokens: AccountTokens,
    storage: Storage,
    pacer: Pacer | None = None,
) -> PublishingComponents:
    """`pacer` paces the API's own creator_info calls (the composer, create/edit checks)."""
    creators = CreatorInfoSource(
        client, tokens, cache_seconds=settings.creator_info_cache_seconds, pacer=pacer
    )
    media_urls = MediaUrlSigner(
        settings.jwt_key,
        settings.media_public_base_url,
        ttl_seconds=settings.media_url_ttl_seconds,
    )
    validator = PostValidator(
        sessionmaker,
        creators,
        daily_post_cap=settings.tiktok_daily_post_cap,
        pending_share_cap=settings.tiktok_pending_share_cap,
        photo_urls_https=media_urls.https,
    )
    components = PublishingComponents(
        settings=settings,
        client=client,
        tokens=tokens,
        storage=storage,
        sessionmaker=sessionmaker,
        creators=creators,
        media_urls=media_urls,
        validator=validator,
        daily_post_cap=settings.tiktok_daily_post_cap,
        pending_share_cap=settings.tiktok_pending_share_cap,
    )
    # The API's own platforms: pre-flight asks them (through `pacer`, or unpaced).
    validator.platforms = components.platforms(pacer or UNPACED)
    return components


class _Unpaced:
    """A pacer that never waits: for a process that makes no paced calls."""

    async def acquire(self, account_id: int, bucket: str) -> None:
        return None


UNPACED = _Unpaced()
