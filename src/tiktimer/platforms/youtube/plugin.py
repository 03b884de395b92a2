"""YouTube Shorts behind the platform contract: the registry's `youtube` entry.

The spec's `oauth=` (`connection.oauth_setup`) gives the accounts package Google's OAuth
(connect, refresh, revoke) for this process: the real client, or the sandbox. The platform
publishes with that same client, found through the token source, and takes tokens through
`TokenAccess` (accounts refresh them under their lease). Without Google credentials and with
the sandbox off, or in a worker in sandbox mode, it is listed but refuses to publish.
A test may share a `YouTubeParts` (client and access) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktimer.config import Settings
from tiktimer.errors import Unprocessable
from tiktimer.platforms.contract import (
    ErrorKind,
    PublishError,
    PublishIdSink,
    PublishJob,
    PublishOutcome,
)
from tiktimer.platforms.preflight_report import PreflightReport
from tiktimer.platforms.registry import PlatformParts, PlatformSpec
from tiktimer.platforms.tokens import AccountUnusable
from tiktimer.platforms.youtube import outcome, preflight
from tiktimer.platforms.youtube.access import TokenAccess, YouTubeAccess
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.connect import YouTubeOAuth
from tiktimer.platforms.youtube.connection import oauth_setup
from tiktimer.platforms.youtube.publisher import INSERT_BUCKET, STATUS_BUCKET, YouTubePublisher

NAME = "youtube"
NOT_SET_UP = (
    "YouTube is not set up in this TikTimer process (no Google OAuth client, or the "
    "sandbox, which only the API process's in-process scheduler publishes to)."
)


# Pacing per channel; the project's daily quota is YouTube's own answer (a deferral).
BUCKETS = {INSERT_BUCKET: 6, STATUS_BUCKET: 60}


def rate_buckets(settings: Settings) -> dict[str, int]:
    return dict(BUCKETS)


@dataclass(frozen=True, slots=True)
class YouTubeParts:
    client: YouTubeClient
    access: YouTubeAccess


class YouTubePlatform:
    name = NAME
    title = "YouTube Shorts"
    status_bucket = STATUS_BUCKET

    def __init__(self, publisher: YouTubePublisher | None, access: YouTubeAccess | None) -> None:
        self.publisher, self.access = publisher, access

    def rate_buckets(self) -> dict[str, int]:
        return dict(BUCKETS)

    def start_buckets(self, post_mode: str | None) -> tuple[str, ...]:
        return (INSERT_BUCKET,)

    async def start(self, job: PublishJob, on_publish_id: PublishIdSink) -> str:
        return await self._publisher().start(job, on_publish_id)

    async def check(self, job: PublishJob, publish_id: str) -> PublishOutcome:
        return await self._publisher().check(job, publish_id)

    async def connect(self, user_id: int, **details: Any) -> Any:
        raise Unprocessable("Connect a YouTube channel at /api/v1/auth/youtube/authorize.")

    async def refresh(self, account_id: int) -> object:
        if self.access is None:
            raise AccountUnusable(account_id, NOT_SET_UP)
        await self.access.refresh(account_id)
        return None

    async def prefetch(self, account: Any) -> Any:
        return None

    def validate(self, post: Any, facts: Any) -> PreflightReport:
        return preflight.evaluate(post, facts)

    def describe_failure(self, fail_reason: str | None) -> str:
        return outcome.describe(fail_reason)

    def _publisher(self) -> YouTubePublisher:
        if self.publisher is None:
            raise PublishError(ErrorKind.fail, NOT_SET_UP, code="youtube_not_set_up")
        return self.publisher


def build(parts: PlatformParts) -> YouTubePlatform:
    try:
        youtube = parts.shared.get(YouTubeParts)
    except LookupError:
        provider = parts.tokens.oauth_provider(NAME)
        if not isinstance(provider, YouTubeOAuth):
            return YouTubePlatform(None, None)
        youtube = YouTubeParts(provider.client, TokenAccess(parts.tokens))
    publisher = YouTubePublisher(
        youtube.client, youtube.access, parts.storage, parts.sessionmaker, parts.pacer
    )
    return YouTubePlatform(publisher, youtube.access)


spec = PlatformSpec(name=NAME, rate_buckets=rate_buckets, build=build, oauth=oauth_setup)
