"""The scheduler under test: the real app on each database, the real TikTokPublisher, and a
TikTok emulator (audited client, short processing) reached in-process over ASGI.

Accounts are connected the way TikTok's consent would leave them: the emulator issues a
token pair (admin hook), and the account row stores it encrypted with the app's keys.
Dispatchers are built per test with short leases and backoffs, and run as tasks.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures.app import make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.lifespan import lifespan_of
from tiktimer.app import create_app
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.time import utc_now
from tiktimer.models import Media, Post, PostAttempt, PostMedia, SocialAccount, User
from tiktimer.platforms.tiktok.emulator import (
    ClientConfig,
    CreatorSettings,
    Emulator,
    EmulatorConfig,
    RateLimits,
    create_emulator_app,
)
from tiktimer.posts.dispatch.dispatcher import Dispatcher, DispatcherOptions
from tiktimer.posts.machine.context import MachineContext
from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy
from tiktimer.posts.pacing.db_backend import DbPacer
from tiktimer.posts.pacing.window import RateLimits as PacingLimits
from tiktimer.posts.pacing.window import SlidingWindowPacer
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.wakeup import Wakeup
from tiktimer.storage import media_key

CLIENT_KEY = "awschedulertests"
CLIENT_SECRET = "scheduler-tests-client-secret"
API_BASE = "http://tiktok.test"
REDIRECT_URI = "http://tiktimer.test/api/v1/auth/tiktok/callback"
PROCESSING_SECONDS = 0.2
# TikTok's per-token limits (6 inits, 20 creator_info, 30 status per minute), compressed in
# time so a test can fill a window: the emulator enforces them, the pacer must respect them.
WINDOW = 2.0
LIMITS = {"init": 3, "creator_info": 6, "status": 10}
PACER_WINDOW = WINDOW + 0.5  # the scheduler's margin over the platform's window
VIDEO_BYTES = 300_000


def emulator_config(**overrides: Any) -> EmulatorConfig:
    client = ClientConfig(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        redirect_uris=(REDIRECT_URI,),
        audited=True,
        check_registration_rules=False,
    )
    values: dict[str, Any] = {
        "clients": (client,),
        "processing_seconds": PROCESSING_SECONDS,
        "rate_limits": RateLimits(window_seconds=WINDOW, **LIMITS),
    }
    values.update(overrides)
    return EmulatorConfig(**values)


@pytest.fixture(scope="session")
def emulator_app() -> FastAPI:
    return create_emulator_app(emulator_config())


@pytest.fixture(scope="session")
def emulator(emulator_app: FastAPI) -> Emulator:
    instance: Emulator = emulator_app.state.emulator
    return instance


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest,
    tmp_path_factory: pytest.TempPathFactory,
    emulator_app: FastAPI,
) -> AsyncIterator[FastAPI]:
    """The service, talking to the emulator as if it were TikTok (no sandbox mount)."""
    settings = make_settings(
        database.url,
        tmp_path_factory.mktemp("scheduler"),
        tiktok_client_key=CLIENT_KEY,
        tiktok_client_secret=CLIENT_SECRET,
        tiktok_redirect_uri=REDIRECT_URI,
        tiktok_api_base=API_BASE,
        tiktok_sandbox=False,
        media_public_url="https://media.tiktimer.test",
        rate_limit_window_seconds=PACER_WINDOW,
        rate_limit_init=LIMITS["init"],
        rate_limit_creator_info=LIMITS["creator_info"],
        rate_limit_status=LIMITS["status"],
    )
    application = create_app(settings, tiktok_transport=httpx.ASGITransport(app=emulator_app))
    async with lifespan_of(application):
        yield application


@pytest.fixture
def fresh_emulator(emulator: Emulator, app: FastAPI) -> Emulator:
    emulator.reset()
    emulator.clear_faults()
    app.state.services.publishing.creators.forget()
    return emulator


# -- data ----------------------------------------------------------------------------------

_names = itertools.count(1)


@dataclass
class World:
    """Rows created straight in the database (the API paths have their own tests)."""

    app: FastAPI
    emulator: Emulator

    @property
    def queue(self) -> PostQueue:
        queue: PostQueue = self.app.state.services.post_queue
        return queue

    async def user(self) -> int:
        n = next(_names)
        async with self.app.state.services.sessionmaker() as session, session.begin():
            user = User(username=f"user{n}", email=f"user{n}@example.com", hashed_password="x")
            session.add(user)
            await session.flush()
            return user.id

    async def account(self, user_id: int, username: str | None = None, **creator: Any) -> int:
        """A TikTok creator in the emulator, connected to `user_id` with a fresh token pair."""
        username = username or f"creator{next(_names)}"
        self.emulator.create_creator(CreatorSettings(username=username, **creator))
        tokens = self.emulator.issue_tokens(CLIENT_KEY, username)
        cipher = TokenCipher(self.app.state.services.settings.auth.token_keys)
        now = utc_now()
        async with self.app.state.services.sessionmaker() as session, session.begin():
            account = SocialAccount(
                user_id=user_id,
                open_id=tokens["open_id"],
                display_name=username,
                username=username,
                access_token_encrypted=cipher.encrypt(tokens["access_token"]),
                refresh_token_encrypted=cipher.encrypt(tokens["refresh_token"]),
                access_token_expires_at=now + timedelta(seconds=tokens["expires_in"]),
                refresh_token_expires_at=now + timedelta(seconds=tokens["refresh_expires_in"]),
                scopes=tokens["scope"],
            )
            session.add(account)
            await session.flush()
            return account.id

    async def media(self, user_id: int, size: int = VIDEO_BYTES) -> str:
        """A ready video: a small file in the app's storage (the emulator counts bytes)."""
        media_id = str(uuid.uuid4())
        key = media_key(user_id, media_id, utc_now(), ".mp4")
        path: Path = self.app.state.services.storage.local_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (media_id.encode() * (size // 36 + 1))[:size]
        path.write_bytes(data)
        async with self.app.state.services.sessionmaker() as session, session.begin():
            session.add(
                Media(
                    id=media_id,
                    user_id=user_id,
                    storage_key=key,
                    size=size,
                    sha256=hashlib.sha256(data).hexdigest(),
                    content_type="video/mp4",
                    kind="video",
                    probe={"container": "mp4", "duration_sec": 5.0, "width": 1080, "height": 1920},
                    verdict={"ok": True, "reasons": []},
                    status="ready",
                )
            )
        return media_id

    async def post(
        self,
        user_id: int,
        account_id: int | None,
        media_id: str | None,
        *,
        at: datetime | None = None,
        **fields: Any,
    ) -> int:
        values: dict[str, Any] = {
            "content": f"post {uuid.uuid4().hex[:8]}",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "status": "scheduled",
        }
        values.update(fields)
        async with self.app.state.services.sessionmaker() as session, session.begin():
            post = Post(
                user_id=user_id,
                social_account_id=account_id,
                scheduled_time=at or utc_now(),
                **values,
            )
            session.add(post)
            await session.flush()
            if media_id is not None:
                session.add(PostMedia(post_id=post.id, position=0, media_id=media_id))
            return post.id

    async def ready(self, posts_per_account: int = 1, accounts: int = 1) -> list[int]:
        """Due posts on fresh accounts of one user."""
        user_id = await self.user()
        media_id = await self.media(user_id)
        ids = []
        for _ in range(accounts):
            account_id = await self.account(user_id)
            for _ in range(posts_per_account):
                ids.append(await self.post(user_id, account_id, media_id))
        return ids

    async def read(self, post_id: int) -> Post:
        async with self.app.state.services.sessionmaker() as session:
            post = await session.get(Post, post_id)
        assert post is not None
        return post

    async def attempts(self, post_id: int) -> list[PostAttempt]:
        async with self.app.state.services.sessionmaker() as session:
            rows = await session.scalars(
                select(PostAttempt).where(PostAttempt.post_id == post_id).order_by(PostAttempt.id)
            )
            return list(rows)

    async def account_row(self, account_id: int) -> SocialAccount:
        async with self.app.state.services.sessionmaker() as session:
            account = await session.get(SocialAccount, account_id)
        assert account is not None
        return account

    def publications(self, post: Post) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.emulator.publications(caption=post.content)]


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI, fresh_emulator: Emulator) -> World:
    """`client` empties the tables after each test."""
    return World(app, fresh_emulator)


# -- dispatchers ---------------------------------------------------------------------------

FAST_RETRY = RetryPolicy(max_attempts=3, base_seconds=0.05, cap_seconds=0.2)
FAST_POLL = PollPolicy(first_seconds=0.1, max_seconds=0.3, timeout_seconds=8)
FAST_OPTIONS = DispatcherOptions(
    concurrency=10,
    batch_size=10,
    poll_seconds=0.1,
    lease_seconds=6,
    heartbeat_seconds=0.5,
    shutdown_grace_seconds=5,
)
_workers = itertools.count(1)


@dataclass
class Workers:
    app: FastAPI
    running: list[tuple[Dispatcher, asyncio.Task[None]]]

    def build(
        self,
        *,
        retry: RetryPolicy = FAST_RETRY,
        poll: PollPolicy = FAST_POLL,
        pacer: SlidingWindowPacer | None = None,
        queue: PostQueue | None = None,
        accounts: Any = "app",
        **options: Any,
    ) -> Dispatcher:
        state = self.app.state.services
        pacer = pacer or state.pacer
        context = MachineContext(
            queue=queue or state.post_queue,
            platforms=state.publishing.platforms(pacer),
            pacer=pacer,
            accounts=state.account_tokens if accounts == "app" else accounts,
            retry=retry,
            poll=poll,
            worker_id=f"test-worker-{next(_workers)}",
        )
        return Dispatcher(context, replace(FAST_OPTIONS, **options), Wakeup())

    def start(self, dispatcher: Dispatcher | None = None, **kwargs: Any) -> Dispatcher:
        dispatcher = dispatcher or self.build(**kwargs)
        self.running.append((dispatcher, asyncio.create_task(dispatcher.run())))
        return dispatcher

    async def stop(self, dispatcher: Dispatcher) -> None:
        for running, task in list(self.running):
            if running is dispatcher:
                dispatcher.stop()
                await task
                self.running.remove((running, task))

    async def stop_all(self) -> None:
        """Stop every dispatcher: before the engine one of them uses is disposed, since a
        dispatcher left running on a disposed aiosqlite engine can wait forever."""
        for dispatcher, _task in list(self.running):
            await self.stop(dispatcher)


@pytest.fixture
async def workers(app: FastAPI) -> AsyncIterator[Workers]:
    pool = Workers(app, [])
    yield pool
    for dispatcher, task in pool.running:
        dispatcher.stop()
        await task


async def eventually(
    check: Callable[[], Awaitable[bool]], *, seconds: float = 30.0, what: str = "condition"
) -> None:
    """Wait for `check` to hold (a bound on waiting, not an assertion about speed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {seconds}s")
        await asyncio.sleep(0.05)


async def settled(world: World, post_ids: list[int], *, seconds: float = 30.0) -> list[Post]:
    """Wait until no post is scheduled-and-due or publishing; returns them."""

    async def done() -> bool:
        posts = [await world.read(post_id) for post_id in post_ids]
        return all(p.status not in ("scheduled", "publishing") for p in posts)

    await eventually(done, seconds=seconds, what=f"posts {post_ids} settled")
    return [await world.read(post_id) for post_id in post_ids]


@asynccontextmanager
async def second_engine(app: FastAPI) -> AsyncIterator[PostQueue]:
    """Another pool on the same database, as another worker process would have."""
    from tiktimer.db.engine import create_engine

    engine = create_engine(app.state.services.settings.database.url, pool_size=5)
    try:
        yield PostQueue(engine)
    finally:
        await engine.dispose()


def db_pacer(queue: PostQueue, window: float, **limits: int) -> DbPacer:
    per_bucket = {"init": 6, "status": 30, "creator_info": 20, **limits}
    return DbPacer(queue, PacingLimits(window_seconds=window, per_bucket=per_bucket))
