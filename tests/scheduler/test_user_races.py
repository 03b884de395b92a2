"""A user's cancel or edit against a worker claiming the same due post, at the same moment.

Each round makes one post due and lets a real worker (the scheduler's own claim and state
machine, on its own connection pool, as another process would have) and the user's request
go at it together. Exactly one may win: either the user's change lands and the worker never
calls TikTok for the post, or the worker started it and the user gets a 409 with nothing
changed. Never both, never a 500. The rounds start the two sides a little apart, in both
orders, so the worker's claim and start meet every point of the user's request.

On the previous code (read the status, then write without a guard) the edit loses this
race on both databases and the cancel on SQLite within a few rounds. The old cancel on
PostgreSQL read and wrote one round trip apart, shorter than a claim plus a start, so in
one event loop it passes here as well.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tests.scheduler.conftest import FAST_POLL, FAST_RETRY, World, second_engine
from tiktimer.kit.time import utc_now
from tiktimer.posts.machine.context import LeaseLost, MachineContext
from tiktimer.posts.machine.run import run_post
from tiktimer.posts.queue.records import Claim

ROUNDS = 40
LEASE = timedelta(seconds=60)


@dataclass
class Race:
    world: World
    headers: dict[str, str]
    user_id: int
    context: MachineContext
    user_seconds: float = 0.005  # how long the user's request takes (a running mean)
    claim_seconds: float = 0.002  # how long the worker's claim takes

    async def due_post(self) -> tuple[int, str]:
        """A due post on a fresh account (so TikTok's per-account limits never pace it)."""
        account_id = await self.world.account(self.user_id)
        media_id = await self.world.media(self.user_id)
        post_id = await self.world.post(self.user_id, account_id, media_id)
        return post_id, (await self.world.read(post_id)).content

    async def worker_pass(self) -> None:
        """One round of a worker: claim what is due and run each claim as far as it goes."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        claims = await self.context.queue.claim(self.context.worker_id, 5, utc_now(), LEASE)
        self.claim_seconds = _mean(self.claim_seconds, loop.time() - started)
        await asyncio.gather(*(self._run(claim) for claim in claims))

    async def _run(self, claim: Claim) -> None:
        try:
            await run_post(self.context, claim)
        except LeaseLost:  # as the dispatcher does: the post is someone else's now
            pass

    async def together(
        self, user_action: Callable[[], Awaitable[httpx.Response]], rng: random.Random
    ) -> httpx.Response:
        """Both sides at once, the worker a random part of the user's request later (as
        long as earlier rounds took), or up to two claims' time earlier: the worker's claim
        and start meet every point of the request, the read-check-write window included."""
        offset = rng.uniform(-2 * self.claim_seconds, self.user_seconds)
        loop = asyncio.get_running_loop()

        async def user() -> httpx.Response:
            await asyncio.sleep(max(0.0, -offset))
            started = loop.time()
            response = await user_action()
            self.user_seconds = _mean(self.user_seconds, loop.time() - started)
            return response

        async def worker() -> None:
            await asyncio.sleep(max(0.0, offset))
            await self.worker_pass()

        response, _ = await asyncio.gather(user(), worker())
        return response

    def published_captions(self, *captions: str) -> int:
        return sum(self.world.emulator.count_publications(caption=c) for c in captions)


@asynccontextmanager
async def race(world: World, client: httpx.AsyncClient, app: FastAPI) -> AsyncIterator[Race]:
    """A user of the API, and a worker with its own connection pool (another process's)."""
    headers = await user_headers(client, "racer")
    user_id = int((await client.get("/users/me", headers=headers)).json()["id"])
    state = app.state.services
    async with second_engine(app) as queue:
        context = MachineContext(
            queue=queue,
            platforms=state.publishing.platforms(state.pacer),
            pacer=state.pacer,
            accounts=state.account_tokens,
            retry=FAST_RETRY,
            poll=FAST_POLL,
            worker_id="racing-worker",
        )
        yield Race(world, headers, user_id, context)


def _mean(estimate: float, observed: float) -> float:
    return 0.8 * estimate + 0.2 * observed


def _both_won(wins: dict[str, int]) -> None:
    """Each side won some rounds: the race was really run, in both directions."""
    assert min(wins.values()) > 0, f"one-sided rounds: {wins}"


async def test_cancel_against_a_claiming_worker(
    world: World, client: httpx.AsyncClient, app: FastAPI
) -> None:
    rng = random.Random(11)
    wins = {"user": 0, "worker": 0}
    async with race(world, client, app) as r:
        for _ in range(ROUNDS):
            post_id, content = await r.due_post()

            cancel = partial(client.post, f"/posts/{post_id}/cancel", headers=r.headers)

            response = await r.together(cancel, rng)

            assert response.status_code in (200, 409), response.text
            post = await r.world.read(post_id)
            if response.status_code == 200:
                wins["user"] += 1
                assert post.status == "cancelled"
                await r.worker_pass()  # a later round finds nothing to do either
                assert r.published_captions(content) == 0, f"cancelled post {post_id} posted"
                assert (await r.world.read(post_id)).status == "cancelled"
            else:
                wins["worker"] += 1
                assert response.json()["detail"].startswith("Post is ")
                assert post.status != "cancelled"
                assert r.published_captions(content) == 1
    _both_won(wins)


async def test_update_against_a_claiming_worker(
    world: World, client: httpx.AsyncClient, app: FastAPI
) -> None:
    rng = random.Random(6)
    wins = {"user": 0, "worker": 0}
    async with race(world, client, app) as r:
        for n in range(ROUNDS):
            post_id, content = await r.due_post()
            edited = f"edited {n} {post_id}"
            later = datetime.now(UTC) + timedelta(days=1)
            body = {"content": edited, "scheduled_time": later.isoformat()}

            edit = partial(client.patch, f"/posts/{post_id}", json=body, headers=r.headers)

            response = await r.together(edit, rng)

            assert response.status_code in (200, 409), response.text
            post = await r.world.read(post_id)
            if response.status_code == 200:
                wins["user"] += 1
                assert (post.status, post.content) == ("scheduled", edited)
                assert post.claimed_by is None
                await r.worker_pass()
                assert r.published_captions(content, edited) == 0, f"edited post {post_id} posted"
                assert (await r.world.read(post_id)).status == "scheduled"
            else:
                wins["worker"] += 1
                assert response.json()["detail"].startswith("Post is ")
                assert post.content == content
                assert post.status != "scheduled"
                assert r.published_captions(content) == 1
                assert r.published_captions(edited) == 0
    _both_won(wins)
