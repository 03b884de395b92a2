"""The posts API: ownership, schedules and time zones, filters, pagination, state locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.accounts.conftest import connect
from tests.fixtures.holdings import small_video
from tests.fixtures.users import user_headers
from tiktimer.models import Post, User

# A post that is not a draft must be publishable as it stands (issue 13): the user's
# posts go to a connected sandbox creator, with a small real video.
_CLIP: list[Path] = []


@pytest.fixture(scope="module")
def _clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_video(tmp_path_factory.mktemp("clip"))


@pytest.fixture(autouse=True)
def _clip(_clip_file: Path) -> None:
    _CLIP[:] = [_clip_file]


def future(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def publishable(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    """The caller's only account and a video of theirs, made on first use."""
    accounts = (await client.get("/api/v1/accounts", headers=headers)).json()
    if not accounts:
        me = (await client.get("/users/me", headers=headers)).json()
        page = await connect(client, headers, creator=f"creator_{me['id']}")
        assert page.status_code == 200, page.text
        accounts = (await client.get("/api/v1/accounts", headers=headers)).json()
    with _CLIP[0].open("rb") as clip:
        media = await client.post(
            "/api/v1/media", files={"file": ("clip.mp4", clip)}, headers=headers
        )
    assert media.status_code in (200, 201), media.text
    return {"social_account_id": accounts[0]["id"], "media_id": media.json()["id"]}


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> dict:
    payload = {
        "content": "hello",
        "scheduled_time": future(),
        **await publishable(client, headers),
        **body,
    }
    response = await client.post("/posts/", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_201_with_id_status_created_at(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    post = await create(client, headers, content="first video")
    assert post["status"] == "scheduled"
    assert post["platform"] == "tiktok"
    assert post["content"] == "first video"
    assert {"id", "created_at", "updated_at"} <= set(post)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"draft": True, "scheduled_time": "2020-01-01T00:00:00Z", "title": "t"},
        {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True, "post_mode": "inbox"},
        {"media_type": "photo", "photo_cover_index": 0, "is_aigc": True, "content": ""},
    ],
)
async def test_create_answers_what_a_read_of_the_post_answers(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    """The create's answer comes from its INSERT; it must be the post as stored, defaults,
    status and pre-flight report included."""
    headers = await user_headers(client, "alice")
    # Drafts: without an account and a video a post may not be scheduled (issue 13).
    payload = {"content": "hello", "scheduled_time": future(), **body, "draft": True}
    response = await client.post("/posts/", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    read = await client.get(f"/posts/{created['id']}", headers=headers)
    assert read.json() == created
    assert created["status"] == "draft"
    assert created["privacy_level"] == body.get("privacy_level", "SELF_ONLY")
    assert created["validation"]["needs_account"] is True
    assert created["media_ids"] == []


async def test_another_users_post_is_404_everywhere(client: httpx.AsyncClient) -> None:
    alice = await user_headers(client, "alice")
    mallory = await user_headers(client, "mallory")
    post = await create(client, alice)
    url = f"/posts/{post['id']}"
    assert (await client.get(url, headers=mallory)).status_code == 404
    assert (await client.patch(url, json={"content": "x"}, headers=mallory)).status_code == 404
    assert (await client.delete(url, headers=mallory)).status_code == 404
    assert (await client.get("/posts/", headers=mallory)).json() == []
    still = await client.get(url, headers=alice)
    assert still.status_code == 200
    assert still.json()["content"] == "hello"


async def test_post_reads_refuse_a_token_from_before_logout(client: httpx.AsyncClient) -> None:
    """The token check rides in the read's own statement: it must hold with and without rows."""
    with_posts = await user_headers(client, "alice")
    post = await create(client, with_posts)
    without_posts = await user_headers(client, "bob")
    assert (await client.get("/posts/", headers=without_posts)).json() == []
    for headers in (with_posts, without_posts):
        assert (await client.post("/auth/logout", headers=headers)).status_code == 204
        for url in ("/posts/", "/posts/?offset=5", f"/posts/{post['id']}"):
            response = await client.get(url, headers=headers)
            assert response.status_code == 401, (url, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_post_reads_refuse_a_deactivated_user(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = await user_headers(client, "alice")
    post = await create(client, headers)
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(User).where(User.username == "alice").values(is_active=False))
        await session.commit()
    for url in ("/posts/", f"/posts/{post['id']}"):
        assert (await client.get(url, headers=headers)).status_code == 401


async def test_unknown_fields_and_mass_assignment_are_422(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    for extra in ({"status": "published"}, {"user_id": 99}, {"id": 5}, {"colour": "red"}):
        body = {"content": "x", "scheduled_time": future(), **extra}
        assert (await client.post("/posts/", json=body, headers=headers)).status_code == 422
    post = await create(client, headers)
    patch = await client.patch(
        f"/posts/{post['id']}", json={"status": "published"}, headers=headers
    )
    assert patch.status_code == 422


async def test_past_time_is_422_unless_draft(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    rejected = await client.post(
        "/posts/", json={"content": "x", "scheduled_time": past}, headers=headers
    )
    assert rejected.status_code == 422
    draft = await create(client, headers, scheduled_time=past, draft=True)
    assert draft["status"] == "draft"
    scheduling = await client.patch(f"/posts/{draft['id']}", json={"draft": False}, headers=headers)
    assert scheduling.status_code == 422  # still in the past
    moved = await client.patch(
        f"/posts/{draft['id']}", json={"draft": False, "scheduled_time": future()}, headers=headers
    )
    assert moved.status_code == 200
    assert moved.json()["status"] == "scheduled"


async def test_offset_times_are_taken_as_given(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice", timezone="Asia/Tokyo")
    post = await create(client, headers, scheduled_time="2031-03-01T09:30:00-05:00")
    assert post["scheduled_time"] == "2031-03-01T14:30:00Z"


async def test_naive_times_are_read_in_the_users_timezone(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice", timezone="Europe/Berlin")
    winter = await create(client, headers, scheduled_time="2031-01-15T09:00:00")
    summer = await create(client, headers, scheduled_time="2031-07-15T09:00:00")
    assert winter["scheduled_time"] == "2031-01-15T08:00:00Z"
    assert summer["scheduled_time"] == "2031-07-15T07:00:00Z"


@pytest.mark.parametrize(
    "local_time",
    ["2031-03-30T02:30:00", "2031-10-26T02:30:00"],  # skipped, then repeated, in Berlin
)
async def test_dst_gap_and_overlap_are_422(client: httpx.AsyncClient, local_time: str) -> None:
    headers = await user_headers(client, "alice", timezone="Europe/Berlin")
    response = await client.post(
        "/posts/", json={"content": "x", "scheduled_time": local_time}, headers=headers
    )
    assert response.status_code == 422
    assert "daylight-saving" in response.text


async def test_list_is_an_array_ordered_with_total_and_pagination(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    for hours in (30, 10, 20, 40, 50):
        await create(client, headers, content=f"at {hours}", scheduled_time=future(hours))
    page = await client.get("/posts/", params={"limit": 2, "offset": 1}, headers=headers)
    assert page.status_code == 200
    assert page.headers["x-total-count"] == "5"
    assert [p["content"] for p in page.json()] == ["at 20", "at 30"]
    beyond = await client.get("/posts/", params={"offset": 10}, headers=headers)
    assert beyond.json() == []
    assert beyond.headers["x-total-count"] == "5"
    assert (await client.get("/posts/", params={"limit": 501}, headers=headers)).status_code == 422


async def test_list_filters(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    await create(client, headers, content="soon", scheduled_time=future(1))
    await create(client, headers, content="later", scheduled_time=future(100))
    await create(client, headers, content="draft", scheduled_time=future(2), draft=True)

    async def contents(**params: str) -> list[str]:
        response = await client.get("/posts/", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [p["content"] for p in response.json()]

    assert await contents(status="draft") == ["draft"]
    assert await contents(status="scheduled") == ["soon", "later"]
    assert await contents(scheduled_to=future(50)) == ["soon", "draft"]
    assert await contents(scheduled_from=future(50)) == ["later"]
    assert await contents(platform="tiktok", status="scheduled") == ["soon", "later"]
    bad = await client.get("/posts/", params={"status": "bogus"}, headers=headers)
    assert bad.status_code == 422


async def test_patch_is_partial(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    post = await create(client, headers, content="before", privacy_level="SELF_ONLY")
    response = await client.patch(
        f"/posts/{post['id']}", json={"content": "after"}, headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["content"] == "after"
    assert body["privacy_level"] == "SELF_ONLY"
    assert body["scheduled_time"] == post["scheduled_time"]


@pytest.mark.parametrize(
    ("status", "patch_code", "delete_code"),
    [("publishing", 409, 409), ("published", 409, 204), ("failed", 200, 204)],
)
async def test_state_locks(
    client: httpx.AsyncClient, app: FastAPI, status: str, patch_code: int, delete_code: int
) -> None:
    headers = await user_headers(client, "alice")
    post = await create(client, headers)
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(Post).where(Post.id == post["id"]).values(status=status))
        await session.commit()
    url = f"/posts/{post['id']}"
    assert (
        await client.patch(url, json={"content": "x"}, headers=headers)
    ).status_code == patch_code
    assert (await client.delete(url, headers=headers)).status_code == delete_code


async def test_delete_then_get_is_404(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    post = await create(client, headers)
    assert (await client.delete(f"/posts/{post['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/posts/{post['id']}", headers=headers)).status_code == 404


async def test_cancel(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    post = await create(client, headers)
    response = await client.post(f"/posts/{post['id']}/cancel", headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


async def test_unknown_account_or_media_is_422(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    for extra in ({"social_account_id": 12345}, {"media_id": "nope"}):
        body = {"content": "x", "scheduled_time": future(), **extra}
        assert (await client.post("/posts/", json=body, headers=headers)).status_code == 422


async def test_posts_need_auth(client: httpx.AsyncClient) -> None:
    assert (await client.get("/posts/")).status_code == 401
