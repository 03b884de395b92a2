"""The publishing parts of a process, built once from settings (by the app and the worker).

`build_publishing(settings, sessionmaker=…, client=…, tokens=…, storage=…)` gives TikTok's
shared parts (creator_info, media URL signer, OAuth start) and the pre-flight validator;
`.platforms(pacer)` then builds the registry's platforms around the caller's pacer (the
scheduler asks it for each post's platform); `.publisher(pacer)` is TikTok's publisher alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.accounts.connect import ConnectService
from tiktimer.accounts.tokens import AccountTokens
from tiktimer.config import Settings
from tiktimer.kit.crypto import TokenCipher
from tiktimer.media.public_urls import MediaUrlSigner
from tiktimer.platforms.contract import Pacer
from tiktimer.platforms.registry import PlatformParts, Platforms, SharedParts
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.creator_info import CreatorInfoSource
from tiktimer.platforms.tiktok.parts import TikTokParts
from tiktimer.platforms.tiktok.publisher import TikTokPublisher
from tiktimer.posts.validation import PostValidator
from tiktimer.storage import Storage


@dataclass(frozen=True)
class PublishingComponents:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    tokens: AccountTokens
    storage: Storage
    tiktok: TikTokParts
    validator: PostValidator

    @property
    def creators(self) -> CreatorInfoSource:
        return self.tiktok.creators

    @property
    def media_urls(self) -> MediaUrlSigner:
        return self.tiktok.media_urls

    def platforms(self, pacer: Pacer) -> Platforms:
        return Platforms.build(
            PlatformParts(
                settings=self.settings,
                sessionmaker=self.sessionmaker,
                tokens=self.tokens,
                storage=self.storage,
                pacer=pacer,
                shared=SharedParts(self.tiktok),
            )
        )

    def publisher(self, pacer: Pacer) -> TikTokPublisher:
        return self.tiktok.publisher(pacer)


def build_publishing(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: TikTokClient,
    tokens: AccountTokens,
    storage: Storage,
    pacer: Pacer | None = None,
    lookups: async_sessionmaker[AsyncSession] | None = None,
) -> PublishingComponents:
    """`pacer` paces the API's own creator_info calls (the composer, create/edit checks);
    `lookups` (default: `sessionmaker`) holds pre-flight's reads, which write nothing."""
    creators = CreatorInfoSource(
        client, tokens, cache_seconds=settings.tiktok.creator_info_cache_seconds, pacer=pacer
    )
    tiktok = TikTokParts(
        client=client,
        tokens=tokens,
        storage=storage,
        sessionmaker=sessionmaker,
        creators=creators,
        media_urls=MediaUrlSigner(
            settings.auth.jwt_key,
            settings.server.media_public_base_url,
            ttl_seconds=settings.media.url_ttl_seconds,
        ),
        connector=ConnectService(
            client, TokenCipher(settings.auth.token_keys), sandbox=settings.tiktok.sandbox_enabled
        ),
        daily_post_cap=settings.tiktok.daily_post_cap,
        pending_share_cap=settings.tiktok.pending_share_cap,
    )
    validator = PostValidator(
        lookups or sessionmaker,
        creators,
        daily_post_cap=settings.tiktok.daily_post_cap,
        pending_share_cap=settings.tiktok.pending_share_cap,
        photo_urls_https=tiktok.media_urls.https,
    )
    components = PublishingComponents(
        settings=settings,
        sessionmaker=sessionmaker,
        tokens=tokens,
        storage=storage,
        tiktok=tiktok,
        validator=validator,
    )
    # The API's own platforms: pre-flight asks them (through `pacer`, or unpaced).
    validator.platforms = components.platforms(pacer or UNPACED)
    return components


class _Unpaced:
    """A pacer that never waits: for a process that makes no paced calls."""

    async def acquire(self, account_id: int, bucket: str) -> None:
        return None


UNPACED = _Unpaced()
