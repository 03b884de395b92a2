"""The whole pipeline on the `fake` platform, in-process on each database: a post scheduled
through the API, claimed by a dispatcher, published (or failed by its failure class), with
its retries and attempt history, and the registry's name on every step."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tiktimer.kit.time import utc_now
from tiktimer.models import Media
from tiktimer.platforms.fake.ledger import Ledger, ledger_path
from tiktimer.platforms.fake.plugin import FakePlatform
from tiktimer.platforms.registry import Platforms, UnknownPlatform
from tiktimer.posts.dispatch.dispatcher import Dispatcher, DispatcherOptions
from tiktimer.posts.machine.context import MachineContext
from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy
from tiktimer.posts.queue.wakeup import Wakeup
from tiktimer.storage import media_key

OPTIONS = DispatcherOptions(
    concurrency=5,
    batch_size=5,
    poll_seconds=0.05,
    lease_seconds=6,
    heartbeat_seconds=0.5,
    shutdown_grace_seconds=5,
)


@pytest.fixture(autouse=True)
def empty_ledger(app: FastAPI) -> None:
    """Post ids start over with the emptied tables: so does the fake's ledger."""
    ledger_path(app.state.services.settings.storage.data_dir).unlink(missing_ok=True)


@pytest.fixture
async def platforms(app: FastAPI) -> Platforms:
    built: Platforms = app.state.services.publishing.platforms(app.state.services.pacer)
    return built


@pytest.fixture
async def dispatcher(app: FastAPI, platforms: Platforms) -> AsyncIterator[Dispatcher]:
    state = app.state.services
    context = MachineContext(
        queue=state.post_queue,
        platforms=platforms,
        pacer=state.pacer,
        accounts=state.account_tokens,
        retry=RetryPolicy(max_attempts=3, base_seconds=0.05, cap_seconds=0.1),
        poll=PollPolicy(first_seconds=0.05, max_seconds=0.1, timeout_seconds=8),
        worker_id=f"fake-test-{uuid.uuid4().hex[:6]}",
    )
    running = Dispatcher(context, OPTIONS, Wakeup())
    task = asyncio.create_task(running.run())
    yield running
    running.stop()
    await task


@pytest.fixture
async def owner(client: httpx.AsyncClient, app: FastAPI, platforms: Platforms) -> dict[str, Any]:
    """A user with a `fake` account (connected at once) and a ready video."""
    headers = await user_headers(client, f"faker{uuid.uuid4().hex[:6]}")
    user_id = int((await client.get("/users/me", headers=headers)).json()["id"])
    account_id = await platforms.get("fake").connect(user_id, name="fake creator")
    return {"headers": headers, "account": account_id, "media": await _video(app, user_id)}


async def _video(app: FastAPI, user_id: int) -> str:
    media_id = str(uuid.uuid4())
    data = media_id.encode() * 100
    key = media_key(user_id, media_id, utc_now(), ".mp4")
    async with app.state.services.sessionmaker() as session, session.begin():
        session.add(
            Media(
                id=media_id,
                user_id=user_id,
                storage_key=key,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                content_type="video/mp4",
                kind="video",
                probe={"container": "mp4", "duration_sec": 5.0, "width": 1080, "height": 1920},
                verdict={"ok": True, "reasons": []},
                status="ready",
            )
        )
    return media_id


async def schedule(client: httpx.AsyncClient, owner: dict[str, Any], caption: str) -> int:
    body = {
        "content": caption,
        "scheduled_time": (utc_now() + timedelta(seconds=1)).isoformat(),
        "social_account_id": owner["account"],
        "media_ids": [owner["media"]],
    }
    response = await client.post("/posts/", json=body, headers=owner["headers"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def settled(client: httpx.AsyncClient, owner: dict[str, Any], post_id: int) -> dict[str, Any]:
    for _ in range(600):  # a bound on waiting, not a claim about speed
        post: dict[str, Any] = (
            await client.get(f"/posts/{post_id}", headers=owner["headers"])
        ).json()
        if post["status"] not in ("scheduled", "publishing"):
            return post
        await asyncio.sleep(0.05)
    raise AssertionError(f"post {post_id} never settled")


async def attempts(
    client: httpx.AsyncClient, owner: dict[str, Any], post_id: int
) -> list[dict[str, Any]]:
    response = await client.get(f"/posts/{post_id}/attempts", headers=owner["headers"])
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def ledger(app: FastAPI) -> Ledger:
    return Ledger(ledger_path(app.state.services.settings.storage.data_dir))


def published_times(app: FastAPI, post_id: int) -> int:
    return sum(1 for post, _ in ledger(app).publications() if post == post_id)


async def test_the_registry_has_fake_in_sandbox_mode(platforms: Platforms) -> None:
    assert isinstance(platforms.get("fake"), FakePlatform)
    assert "fake" in platforms.names()
    with pytest.raises(UnknownPlatform):
        platforms.get("nowhere")


async def test_a_fake_post_is_scheduled_claimed_and_published_once(
    client: httpx.AsyncClient, app: FastAPI, owner: dict[str, Any], dispatcher: Dispatcher
) -> None:
    post_id = await schedule(client, owner, "hello fake")

    post = await settled(client, owner, post_id)

    assert post["status"] == "published"
    assert post["platform_status"] == "PUBLISHED"
    assert post["platform_publish_id"].startswith(f"fake-{post_id}-")
    assert published_times(app, post_id) == 1
    [attempt] = await attempts(client, owner, post_id)
    assert attempt["outcome"] == "published"
    assert attempt["publish_id"] == post["platform_publish_id"]


@pytest.mark.parametrize("failure", ["transient", "rate_limited"])
async def test_a_passing_failure_is_retried_then_published(
    client: httpx.AsyncClient,
    app: FastAPI,
    owner: dict[str, Any],
    dispatcher: Dispatcher,
    failure: str,
) -> None:
    post_id = await schedule(client, owner, f"flaky fake:fail={failure} fake:times=1")

    post = await settled(client, owner, post_id)

    assert post["status"] == "published"
    history = await attempts(client, owner, post_id)
    assert [a["outcome"] for a in history] == ["retry", "published"]
    assert history[0]["error_code"] in ("fake_down", "rate_limit_exceeded")
    assert published_times(app, post_id) == 1


async def test_a_failure_that_never_passes_gives_up_after_the_attempts(
    client: httpx.AsyncClient, app: FastAPI, owner: dict[str, Any], dispatcher: Dispatcher
) -> None:
    post_id = await schedule(client, owner, "down for good fake:fail=transient")

    post = await settled(client, owner, post_id)

    assert post["status"] == "failed"
    assert "Gave up after 3 attempts" in post["last_error"]
    assert [a["outcome"] for a in await attempts(client, owner, post_id)] == [
        "retry",
        "retry",
        "failed",
    ]
    assert published_times(app, post_id) == 0


async def test_a_permanent_failure_fails_at_once(
    client: httpx.AsyncClient, app: FastAPI, owner: dict[str, Any], dispatcher: Dispatcher
) -> None:
    post_id = await schedule(client, owner, "refused fake:fail=permanent")

    post = await settled(client, owner, post_id)

    assert post["status"] == "failed"
    assert post["last_error_code"] == "fake_refused"
    assert [a["outcome"] for a in await attempts(client, owner, post_id)] == ["failed"]


async def test_an_auth_failure_fails_the_post_and_flags_the_account(
    client: httpx.AsyncClient, owner: dict[str, Any], dispatcher: Dispatcher
) -> None:
    post_id = await schedule(client, owner, "revoked fake:fail=auth")

    post = await settled(client, owner, post_id)

    assert post["status"] == "failed"
    assert post["last_error_code"] == "fake_auth_revoked"
    accounts = (await client.get("/api/v1/accounts", headers=owner["headers"])).json()
    [account] = [a for a in accounts if a["id"] == owner["account"]]
    assert account["status"] == "reauth_required"
