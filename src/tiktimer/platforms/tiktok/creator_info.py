"""creator_info per account: fresh for the composer and the publisher, cached briefly for edits.

Each creator_info call costs one of the 20 per minute TikTok allows per token. The composer
asks for it when it renders (TikTok's UX rule 1, reference §8.3) and the post is saved
moments later, so create/edit validation reuses an answer up to `cache_seconds` old. The
publisher never does: it asks again right before the init.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tiktimer.platforms.contract import Pacer
from tiktimer.platforms.tiktok.buckets import CREATOR_INFO_BUCKET
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.errors import (
    TikTokError,
    TikTokRejected,
    TikTokTokenExpired,
)
from tiktimer.platforms.tiktok.preflight import CreatorLookup
from tiktimer.platforms.tiktok.schemas import CreatorInfo
from tiktimer.platforms.tokens import AccountUnusable, TokenSource

log = logging.getLogger("tiktimer.publishing")


class WindowFull(Exception):
    """The account used its creator_info calls for this minute."""


class CreatorInfoSource:
    def __init__(
        self,
        client: TikTokClient,
        tokens: TokenSource,
        *,
        cache_seconds: float = 60.0,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.cache_seconds = cache_seconds
        self.pacer = pacer
        self._clock = clock
        self._cache: dict[int, tuple[float, CreatorLookup]] = {}

    async def lookup(self, account_id: int, *, fresh: bool = False) -> CreatorLookup:
        """TikTok's answer, or its refusal, or "unavailable"; never raises for TikTok errors."""
        if not fresh and (cached := self.cached(account_id)) is not None:
            return cached
        try:
            info = await self.fetch(account_id)
        except WindowFull:
            log.info("publishing.creator_info.paced account_id=%d", account_id)
            return self.last(account_id) or CreatorLookup()
        except AccountUnusable as exc:
            return CreatorLookup(error_code="account_unusable", error_message=exc.reason)
        except TikTokRejected as exc:
            return self.remember(account_id, refusal(exc))
        except TikTokError as exc:  # network, rate limit, scope: reported as unavailable
            log.info(
                "publishing.creator_info.unavailable account_id=%d code=%s", account_id, exc.code
            )
            return CreatorLookup()
        return self.remember(account_id, CreatorLookup(info=info))

    async def fetch(self, account_id: int) -> CreatorInfo:
        """A fresh creator_info; TikTok's errors propagate (`refusal` turns caps into data)."""
        token = await self.tokens.access_token(account_id)
        await self._pace(account_id)
        try:
            return await self.client.query_creator_info(token.token)
        except TikTokTokenExpired:
            token = await self.tokens.refresh(account_id)
            await self._pace(account_id)
            return await self.client.query_creator_info(token.token)

    async def _pace(self, account_id: int) -> None:
        """Take a slot of TikTok's 20 per minute, without making an API request wait for one:
        a pacer that can say "not now" (the scheduler's) makes a full window `WindowFull`."""
        if self.pacer is None:
            return
        try_acquire = getattr(self.pacer, "try_acquire", None)
        if try_acquire is None:
            await self.pacer.acquire(account_id, CREATOR_INFO_BUCKET)
        elif await try_acquire(account_id, CREATOR_INFO_BUCKET) > 0:
            raise WindowFull(account_id)

    def cached(self, account_id: int) -> CreatorLookup | None:
        entry = self._cache.get(account_id)
        if entry is None or entry[0] < self._clock():
            return None
        return entry[1]

    def last(self, account_id: int) -> CreatorLookup | None:
        """The latest answer kept, however old (better than none when the window is full)."""
        entry = self._cache.get(account_id)
        return entry[1] if entry is not None else None

    def remember(self, account_id: int, lookup: CreatorLookup) -> CreatorLookup:
        if self.cache_seconds > 0:
            self._cache[account_id] = (self._clock() + self.cache_seconds, lookup)
        return lookup

    def forget(self, account_id: int | None = None) -> None:
        """Drop one account's cached answer, or every one."""
        if account_id is None:
            self._cache.clear()
        else:
            self._cache.pop(account_id, None)


def refusal(exc: TikTokRejected) -> CreatorLookup:
    """creator_info's "you cannot post now" answers (HTTP 200 + spam_risk_… codes, §4.1)."""
    return CreatorLookup(error_code=exc.code or "rejected", error_message=exc.message)
