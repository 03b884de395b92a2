"""The YouTube platform behind the contract: a post from the database and storage to a
processed Short on the emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete, insert

from tests.fixtures.app import make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.youtube.conftest import KIB256, Served, connect, make_client, video_bytes
from tiktimer.db.engine import create_engine, create_sessionmaker
from tiktimer.kit.time import utc_now
from tiktimer.models import Media, Post, PostMedia, SocialAccount, User
from tiktimer.platforms.contract import ErrorKind, OutcomeState, PublishError, PublishJob
from tiktimer.platforms.preflight_report import ACCOUNT_REQUIRED
from tiktimer.platforms.registry import PlatformParts, SharedParts
from tiktimer.platforms.tokens import AccountUnusable
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.emulator import Fault, FaultKind
from tiktimer.platforms.youtube.errors import QuotaDeferred
from tiktimer.platforms.youtube.plugin import YouTubeParts, YouTubePlatform, spec
from tiktimer.platforms.youtube.publisher import INSERT_BUCKET, STATUS_BUCKET, YouTubePublisher
from tiktimer.platforms.youtube.schemas import TokenSet
from tiktimer.storage import LocalStorage

SIZE = 3 * KIB256 + 17


@dataclass
class MemoryAccess:
    """The account's Google tokens in memory, refreshed through the real client."""

    client: YouTubeClient
    tokens: TokenSet
    refreshes: int = 0

    async def access_token(self, account_id: int) -> str:
        return self.tokens.access_token

    async def refresh(self, account_id: int) -> None:
        renewed = await self.client.refresh(self.tokens.refresh_token or "")
        self.tokens = TokenSet(
            renewed.access_token, renewed.expires_at, renewed.scopes, self.tokens.refresh_token
        )
        self.refreshes += 1


@dataclass
class Pacer:
    calls: list[tuple[int, str]] = field(default_factory=list)

    async def acquire(self, account_id: int, bucket: str) -> None:
        self.calls.append((account_id, bucket))


@dataclass
class World:
    platform: YouTubePlatform
    served: Served
    access: MemoryAccess
    pacer: Pacer
    job: PublishJob
    data: bytes
    ids: list[tuple[str, str | None]] = field(default_factory=list)

    async def sink(self, publish_id: str, log_id: str | None) -> None:
        self.ids.append((publish_id, log_id))


@pytest.fixture
async def world(
    database: DatabaseUnderTest,
    serve: Callable[..., Any],
    clients: list[YouTubeClient],
    tmp_path: Path,
) -> AsyncIterator[World]:
    served: Served = await serve(processing_seconds=60)
    client = make_client(served)
    clients.append(client)
    access = MemoryAccess(client, await connect(client))
    storage = LocalStorage(tmp_path / "media")
    data = video_bytes(SIZE)
    key = f"media/{secrets.token_hex(8)}.mp4"
    source = tmp_path / "video.mp4"
    source.write_bytes(data)
    await storage.put_file(key, source)
    engine = create_engine(database.url)
    name = f"youtube-{secrets.token_hex(4)}"
    media_id = secrets.token_hex(16)
    async with engine.begin() as connection:
        user_id = (
            await connection.execute(
                insert(User)
                .values(username=name, email=f"{name}@example.com", hashed_password="-")
                .returning(User.id)
            )
        ).scalar_one()
        account_id = (
            await connection.execute(
                insert(SocialAccount)
                .values(user_id=user_id, platform="youtube", open_id="UCalice", status="active")
                .returning(SocialAccount.id)
            )
        ).scalar_one()
        await connection.execute(
            insert(Media).values(
                id=media_id,
                user_id=user_id,
                storage_key=key,
                size=SIZE,
                sha256="0" * 64,
                content_type="video/mp4",
                kind="video",
            )
        )
        post_id = (
            await connection.execute(
                insert(Post)
                .values(
                    user_id=user_id,
                    social_account_id=account_id,
                    platform="youtube",
                    scheduled_time=utc_now(),
                    title="My first Short",
                    content="Vertical, forty seconds.\nSecond line.",
                    privacy_level="PUBLIC_TO_EVERYONE",
                    is_aigc=True,
                )
                .returning(Post.id)
            )
        ).scalar_one()
        await connection.execute(
            insert(PostMedia).values(post_id=post_id, position=0, media_id=media_id)
        )
    pacer = Pacer()
    publisher = YouTubePublisher(client, access, storage, create_sessionmaker(engine), pacer)
    job = PublishJob(post_id, 1, user_id, account_id, "youtube")
    try:
        yield World(YouTubePlatform(publisher, access), served, access, pacer, job, data)
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(PostMedia).where(PostMedia.post_id == post_id))
            await connection.execute(delete(Post).where(Post.id == post_id))
            await connection.execute(delete(Media).where(Media.id == media_id))
            await connection.execute(delete(SocialAccount).where(SocialAccount.id == account_id))
            await connection.execute(delete(User).where(User.id == user_id))
        await engine.dispose()
        await storage.aclose()


async def test_a_post_becomes_a_processed_short(world: World) -> None:
    video_id = await world.platform.start(world.job, world.sink)

    assert world.ids == [(video_id, None)]
    (video,) = await world.served.emulator.videos()
    assert video.id == video_id
    assert video.resource["snippet"]["title"] == "My first Short"
    assert video.resource["snippet"]["description"] == "Vertical, forty seconds.\nSecond line."
    assert video.resource["status"] == {
        "privacyStatus": "public",
        "selfDeclaredMadeForKids": False,
        "containsSyntheticMedia": True,
    }
    account_id = world.job.account_id
    assert world.pacer.calls == [(account_id, INSERT_BUCKET)]

    early = await world.platform.check(world.job, video_id)
    world.served.clock.advance(seconds=61)
    late = await world.platform.check(world.job, video_id)

    assert early.state is OutcomeState.processing
    assert late.state is OutcomeState.published
    assert late.post_ids == [video_id]
    assert world.pacer.calls[1:] == [(account_id, STATUS_BUCKET)] * 2


async def test_a_token_refused_mid_upload_is_refreshed_and_the_session_goes_on(
    world: World,
) -> None:
    fault = world.served.emulator.add_fault(
        Fault(endpoint="chunk", kind=FaultKind.GOOGLE_ERROR, nth=2, status=401, reason="authError")
    )

    await world.platform.start(world.job, world.sink)

    assert fault.fired == 1
    assert world.access.refreshes == 1
    (session,) = await world.served.emulator.sessions()  # no second session
    assert [first for first, _ in session.stored_ranges] == [0, KIB256, 2 * KIB256, 3 * KIB256]
    assert len(await world.served.emulator.videos()) == 1


async def test_a_spent_quota_defers_before_any_id(world: World) -> None:
    world.served.emulator.add_fault(
        Fault(endpoint="insert", kind=FaultKind.GOOGLE_ERROR, status=403, reason="quotaExceeded")
    )

    with pytest.raises(QuotaDeferred) as caught:
        await world.platform.start(world.job, world.sink)

    assert caught.value.kind is ErrorKind.retry
    assert caught.value.retry_after is not None
    assert world.ids == []


async def test_a_rejected_upload_fails_with_its_reason_in_words(world: World) -> None:
    await world.served.emulator.script_verdict("rejected", "duplicate")
    video_id = await world.platform.start(world.job, world.sink)
    world.served.clock.advance(seconds=61)

    verdict = await world.platform.check(world.job, video_id)

    assert verdict.state is OutcomeState.failed
    assert verdict.fail_reason == "duplicate"
    assert verdict.message == world.platform.describe_failure("duplicate")
    assert "duplicate" in (verdict.message or "")


async def test_an_unset_platform_refuses_without_touching_tokens(tmp_path: Path) -> None:
    platform = YouTubePlatform(None, None)
    job = PublishJob(1, 1, 1, 1, "youtube")

    with pytest.raises(PublishError) as caught:
        await platform.start(job, _never)
    assert caught.value.kind is ErrorKind.fail
    with pytest.raises(AccountUnusable):
        await platform.refresh(1)
    assert spec.name == "youtube"
    assert set(spec.rate_buckets(None)) == {INSERT_BUCKET, STATUS_BUCKET}  # type: ignore[arg-type]


async def _never(publish_id: str, log_id: str | None) -> None:
    raise AssertionError("no publish id without YouTube")


def _facts(status: str = "active", duration: float = 40.0) -> SimpleNamespace:
    medium = SimpleNamespace(kind="video", duration_sec=duration)
    return SimpleNamespace(account=SimpleNamespace(status=status), media=[medium])


def test_preflight_reasons() -> None:
    platform = YouTubePlatform(None, None)
    good = SimpleNamespace(title="Fine", content="desc", privacy_level=None, is_aigc=False)

    assert platform.validate(good, _facts()).ok
    long_title = SimpleNamespace(title="x" * 101, content="", privacy_level=None, is_aigc=False)
    assert "100 characters" in platform.validate(long_title, _facts()).message()
    assert platform.validate(good, _facts(status="reauth_required")).errors[0].code == (
        ACCOUNT_REQUIRED
    )
    long_video = platform.validate(good, _facts(duration=181))
    assert long_video.ok
    assert long_video.warnings[0].code == "youtube_not_a_short"
    untitled = SimpleNamespace(title=None, content="First line\nmore", privacy_level=None)
    assert platform.validate(untitled, _facts()).ok  # the caption's first line is the title


async def test_build_uses_the_shared_youtube_parts_or_stays_unset(
    tmp_path: Path, served: Served, clients: list[YouTubeClient]
) -> None:
    client = make_client(served)
    clients.append(client)
    access = MemoryAccess(client, await connect(client))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    storage = LocalStorage(tmp_path / "media")

    class NoGoogle:
        """Accounts' tokens in a process where YouTube has no OAuth (not set up)."""

        def oauth_provider(self, platform: str) -> None:
            return None

    def parts(*shared: object) -> PlatformParts:
        return PlatformParts(
            settings=make_settings("sqlite+aiosqlite://", tmp_path),
            sessionmaker=create_sessionmaker(engine),
            tokens=NoGoogle(),  # type: ignore[arg-type]  # only asked for its OAuth
            storage=storage,
            pacer=Pacer(),
            shared=SharedParts(*shared),
        )

    wired = spec.build(parts(YouTubeParts(client, access)))
    unset = spec.build(parts())
    await engine.dispose()

    assert isinstance(wired, YouTubePlatform)
    assert wired.publisher is not None
    assert isinstance(unset, YouTubePlatform)
    assert unset.publisher is None
