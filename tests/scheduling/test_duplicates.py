"""The duplicate guard: the same media and caption to the same account within the window
→ 409, unless the request says it is intended."""

from __future__ import annotations

import asyncio

import httpx

from tests.publishing.helpers import future
from tests.scheduling.conftest import create


async def test_the_same_media_and_caption_within_a_day_is_409(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    first = await create(client, alice, media_id=video, scheduled_time=future(24))
    response = await client.post(
        "/posts/",
        json={"content": "hello", "scheduled_time": future(47), "media_id": video},
        headers=alice,
    )
    assert response.status_code == 409, response.text
    assert f"Post {first['id']}" in response.json()["detail"]
    assert "allow_duplicate" in response.json()["detail"]
    meant = await create(
        client, alice, media_id=video, scheduled_time=future(47), allow_duplicate=True
    )
    assert meant["status"] == "scheduled"


async def test_concurrent_duplicates_make_one_post(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    """Check-then-insert under concurrency: the checks take turns, so only one passes."""
    await create(client, alice, media_id=video, content="warm")  # creator_info is cached
    body = {"content": "hello", "scheduled_time": future(24), "media_id": video}
    answers = await asyncio.gather(
        *(client.post("/posts/", json=body, headers=alice) for _ in range(8))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7, [a.text for a in answers]
    listed = (await client.get("/posts/", headers=alice)).json()
    assert [p["content"] for p in listed].count("hello") == 1


async def test_another_caption_a_later_day_or_a_draft_is_no_duplicate(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    await create(client, alice, media_id=video, scheduled_time=future(24))
    await create(client, alice, media_id=video, scheduled_time=future(25), content="other")
    await create(client, alice, media_id=video, scheduled_time=future(49))
    await create(client, alice, media_id=video, scheduled_time=future(30), draft=True)


async def test_a_cancelled_post_is_no_duplicate(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    first = await create(client, alice, media_id=video)
    cancelled = await client.post(f"/posts/{first['id']}/cancel", headers=alice)
    assert cancelled.status_code == 200, cancelled.text
    await create(client, alice, media_id=video)


async def test_an_edit_into_a_duplicate_is_409(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    await create(client, alice, media_id=video, scheduled_time=future(24))
    other = await create(client, alice, media_id=video, content="other", scheduled_time=future(26))
    url = f"/posts/{other['id']}"
    assert (await client.patch(url, json={"content": "hello"}, headers=alice)).status_code == 409
    assert (await client.get(url, headers=alice)).json()["content"] == "other"
    meant = await client.patch(
        url, json={"content": "hello", "allow_duplicate": True}, headers=alice
    )
    assert meant.status_code == 200, meant.text
    draft = await create(client, alice, media_id=video, draft=True, scheduled_time=future(25))
    scheduling = await client.patch(f"/posts/{draft['id']}", json={"draft": False}, headers=alice)
    assert scheduling.status_code == 409
