"""The web app's pause and resume buttons (post page, accounts page) and a missed post's
reason in its timeline, signed in with a cookie like a browser."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.users import DEFAULT_PASSWORD
from tests.scheduling.conftest import create
from tiktimer.kit.time import utc_now
from tiktimer.models import Post


async def _signed_in(client: httpx.AsyncClient) -> str:
    """Sign alice in through the form; returns the CSRF token her forms carry."""
    await client.get("/app/signin")
    csrf = client.cookies["tiktimer_csrf"]
    signed = await client.post(
        "/app/signin",
        data={"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": csrf},
    )
    assert signed.status_code == 303, signed.text
    return csrf


async def test_pause_and_resume_a_post_from_its_page(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    post = await create(client, alice, media_id=video)
    csrf = await _signed_in(client)
    page = await client.get(f"/app/posts/{post['id']}")
    assert f'action="/app/posts/{post["id"]}/pause"' in page.text
    paused = await client.post(f"/app/posts/{post['id']}/pause", data={"csrf_token": csrf})
    assert paused.status_code == 303
    assert (await client.get(f"/posts/{post['id']}", headers=alice)).json()["status"] == "paused"
    page = await client.get(f"/app/posts/{post['id']}")
    assert "Paused: it waits until you resume it" in page.text
    assert f'action="/app/posts/{post["id"]}/resume"' in page.text
    await client.post(f"/app/posts/{post['id']}/resume", data={"csrf_token": csrf})
    assert (await client.get(f"/posts/{post['id']}", headers=alice)).json()["status"] == "scheduled"


async def test_a_missed_post_shows_why(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    post = await create(client, alice, media_id=video)
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == post["id"])
            .values(scheduled_time=utc_now() - timedelta(hours=3))
        )
    await app.state.services.post_queue.claim("w", 5, utc_now(), timedelta(seconds=30))
    await _signed_in(client)
    page = await client.get(f"/app/posts/{post['id']}")
    assert 'data-testid="missed"' in page.text
    assert "late-publish window of 60 minutes" in page.text
    assert "Attempt 1: missed" in page.text


async def test_pause_and_resume_an_account_from_the_accounts_page(
    client: httpx.AsyncClient, alice: dict[str, str], account: int
) -> None:
    csrf = await _signed_in(client)
    assert f'action="/app/accounts/{account}/pause"' in (await client.get("/app/accounts")).text
    await client.post(f"/app/accounts/{account}/pause", data={"csrf_token": csrf})
    page = await client.get("/app/accounts")
    assert 'data-testid="account-paused"' in page.text
    assert f'action="/app/accounts/{account}/resume"' in page.text
    read = await client.get(f"/api/v1/accounts/{account}", headers=alice)
    assert read.json()["paused_at"] is not None
    await client.post(f"/app/accounts/{account}/resume", data={"csrf_token": csrf})
    read = await client.get(f"/api/v1/accounts/{account}", headers=alice)
    assert read.json()["paused_at"] is None
