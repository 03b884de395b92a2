"""The fake platform behind the platform contract: the registry's `fake` entry.

Connecting is instant: `connect` creates an active account for the user (no consent
step, no tokens), which is how tests, benchmarks and sandbox users get one.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.config import Settings
from tiktimer.models import AccountStatus, Post, SocialAccount
from tiktimer.platforms.contract import (
    ErrorKind,
    OutcomeState,
    PublishError,
    PublishIdSink,
    PublishJob,
    PublishOutcome,
)
from tiktimer.platforms.fake.behaviour import Behaviour, behaviour_of, failure
from tiktimer.platforms.fake.ledger import Ledger, ledger_path
from tiktimer.platforms.preflight_report import (
    ACCOUNT_REQUIRED,
    MEDIA_REQUIRED,
    Issue,
    PreflightReport,
)
from tiktimer.platforms.registry import PlatformParts, PlatformSpec

NAME = "fake"
PUBLISH_BUCKET = "fake_publish"
STATUS_BUCKET = "fake_status"
CALLS_PER_WINDOW = 10_000  # paced like any platform, but never the bottleneck


def rate_buckets(settings: Settings) -> dict[str, int]:
    return {PUBLISH_BUCKET: CALLS_PER_WINDOW, STATUS_BUCKET: CALLS_PER_WINDOW}


class FakePlatform:
    name = NAME
    title = "Fake"
    status_bucket = STATUS_BUCKET

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ledger: Ledger) -> None:
        self.sessionmaker = sessionmaker
        self.ledger = ledger

    def rate_buckets(self) -> dict[str, int]:
        return {PUBLISH_BUCKET: CALLS_PER_WINDOW, STATUS_BUCKET: CALLS_PER_WINDOW}

    def start_buckets(self, post_mode: str | None) -> tuple[str, ...]:
        return (PUBLISH_BUCKET,)

    async def start(self, job: PublishJob, on_publish_id: PublishIdSink) -> str:
        behaviour, attempt = await self._behaviour(job.post_id)
        if behaviour.fail is not None and behaviour.fails_on(attempt):
            await asyncio.sleep(behaviour.latency)
            raise failure(behaviour.fail)
        publish_id = f"fake-{job.post_id}-{uuid.uuid4().hex[:12]}"
        await on_publish_id(publish_id, None)
        await asyncio.sleep(behaviour.latency)  # the "upload": a worker may die meanwhile
        await self.ledger.record(job.post_id, publish_id)  # the publication itself
        return publish_id

    async def check(self, job: PublishJob, publish_id: str) -> PublishOutcome:
        if await self.ledger.has(publish_id):
            return PublishOutcome(
                OutcomeState.published, platform_status="PUBLISHED", post_ids=[publish_id]
            )
        # The worker died between taking the id and publishing: nothing went out.
        raise PublishError(
            ErrorKind.reinitialize,
            "The fake platform never received the post; it is sent again.",
            code="upload_incomplete",
        )

    async def connect(self, user_id: int, **details: Any) -> int:
        """A new active account at once; returns its id (`name` optional)."""
        name = str(details.get("name") or f"fake-{uuid.uuid4().hex[:8]}")
        account = SocialAccount(
            user_id=user_id,
            platform=NAME,
            open_id=f"fake-{uuid.uuid4().hex}",
            display_name=name,
            username=name,
            scopes="",
            status=AccountStatus.active,
            is_sandbox=True,
        )
        async with self.sessionmaker() as session, session.begin():
            session.add(account)
        return account.id

    async def refresh(self, account_id: int) -> object:
        return None  # no tokens: nothing expires

    async def prefetch(self, account: Any) -> Any:
        return None

    def validate(self, post: Any, facts: Any) -> PreflightReport:
        errors: list[Issue] = []
        if facts.account is None or facts.account.status != AccountStatus.active:
            errors.append(Issue("social_account_id", ACCOUNT_REQUIRED, "Connect an account."))
        if not facts.media:
            errors.append(Issue("media_ids", MEDIA_REQUIRED, "Attach the media to post."))
        return PreflightReport(errors=tuple(errors))

    def describe_failure(self, fail_reason: str | None) -> str:
        return f"The fake platform refused the post ({fail_reason or 'no reason'})."

    async def _behaviour(self, post_id: int) -> tuple[Behaviour, int]:
        async with self.sessionmaker() as session:
            row = (
                await session.execute(
                    select(Post.content, Post.attempt_count).where(Post.id == post_id)
                )
            ).first()
        if row is None:
            raise PublishError(ErrorKind.fail, "The post no longer exists.", code="no_post")
        return behaviour_of(row.content or ""), int(row.attempt_count)


def build(parts: PlatformParts) -> FakePlatform:
    return FakePlatform(parts.sessionmaker, Ledger(ledger_path(parts.settings.storage.data_dir)))


spec = PlatformSpec(name=NAME, rate_buckets=rate_buckets, build=build)
