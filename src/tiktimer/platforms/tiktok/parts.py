"""TikTok's shared parts in one process: its client, the creator_info cache, media URLs.

The accounts package (OAuth, refresh), the composer's creator_info route, pre-flight and the
publisher all use the same client and cache; the wiring builds them once and the registry
hands them to `plugin.build`. The OAuth start is the accounts package's (`Connector`), so
this package never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.media.public_urls import MediaUrlSigner
from tiktimer.platforms.contract import Pacer
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.creator_info import CreatorInfoSource
from tiktimer.platforms.tiktok.publisher import TikTokPublisher
from tiktimer.platforms.tokens import TokenSource
from tiktimer.storage import Storage


class Connector(Protocol):
    async def start(self, session: AsyncSession, user_id: int) -> str:
        """The authorization URL that begins linking an account for `user_id`."""
        ...


@dataclass(frozen=True)
class TikTokParts:
    client: TikTokClient
    tokens: TokenSource
    storage: Storage
    sessionmaker: async_sessionmaker[AsyncSession]
    creators: CreatorInfoSource
    media_urls: MediaUrlSigner
    connector: Connector
    daily_post_cap: int
    pending_share_cap: int

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
