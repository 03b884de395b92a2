"""The caller's media library: list, read, dedupe, ownership and delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.users import user_headers
from tests.media_api.helpers import Stored, upload
from tests.media_factory import MediaSamples
from tiktimer.models import Post


async def uploaded(
    client: httpx.AsyncClient, headers: dict[str, str], samples: MediaSamples, name: str
) -> dict[str, Any]:
    response = await upload(client, headers, samples[name])
    assert response.status_code == 201, response.text
    media: dict[str, Any] = response.json()
    return media


async def post_using(
    client: httpx.AsyncClient, headers: dict[str, str], media_id: str, **body: object
) -> dict[str, Any]:
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    # Saved as a draft: without an account a post may not be scheduled (issue 13); the
    # tests set the status they need afterwards.
    payload = {
        "content": "hi",
        "scheduled_time": when,
        "media_ids": [media_id],
        "draft": True,
        **body,
    }
    response = await client.post("/posts/", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


async def set_post_status(app: FastAPI, post_id: int, status: str) -> None:
    """Stand in for the publisher, which is not built yet."""
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(Post).where(Post.id == post_id).values(status=status))
        await session.commit()


async def test_list_is_newest_first_with_pagination(
    client: httpx.AsyncClient, media_samples: MediaSamples
) -> None:
    headers = await user_headers(client, "alice")
    names = ["h264_mp4", "vp9_webm", "jpeg"]
    ids = [(await uploaded(client, headers, media_samples, name))["id"] for name in names]

    everything = await client.get("/api/v1/media", headers=headers)
    page = await client.get("/api/v1/media?limit=1&offset=1", headers=headers)
    beyond = await client.get("/api/v1/media?limit=1&offset=5", headers=headers)

    assert [m["id"] for m in everything.json()] == ids[::-1]
    assert everything.headers["X-Total-Count"] == "3"
    assert [m["id"] for m in page.json()] == [ids[1]]
    assert page.headers["X-Total-Count"] == "3"
    assert (beyond.json(), beyond.headers["X-Total-Count"]) == ([], "3")
    one = await client.get(f"/api/v1/media/{ids[0]}", headers=headers)
    assert one.status_code == 200
    assert one.json() == everything.json()[-1]


async def test_same_file_twice_returns_the_existing_record(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    first = await uploaded(client, headers, media_samples, "h264_mp4")

    again = await upload(client, headers, media_samples["h264_mp4"], filename="renamed.mp4")

    assert again.status_code == 200
    assert again.json() == first
    assert len(stored.objects()) == 1
    assert len(await stored.rows()) == 1


async def test_another_owner_with_the_same_bytes_gets_their_own_record(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    alice = await user_headers(client, "alice")
    bob = await user_headers(client, "bob")
    mine = await uploaded(client, alice, media_samples, "h264_mp4")

    response = await upload(client, bob, media_samples["h264_mp4"])

    assert response.status_code == 201
    theirs = response.json()
    assert theirs["id"] != mine["id"]
    assert theirs["sha256"] == mine["sha256"]
    assert len(stored.objects()) == 2


async def test_another_users_media_is_404_everywhere(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    alice = await user_headers(client, "alice")
    mallory = await user_headers(client, "mallory")
    media = await uploaded(client, alice, media_samples, "h264_mp4")
    url = f"/api/v1/media/{media['id']}"

    assert (await client.get(url, headers=mallory)).status_code == 404
    assert (await client.get(f"{url}/content", headers=mallory)).status_code == 404
    assert (await client.delete(url, headers=mallory)).status_code == 404
    listed = await client.get("/api/v1/media", headers=mallory)
    assert (listed.json(), listed.headers["X-Total-Count"]) == ([], "0")
    assert (await client.get(url, headers=alice)).status_code == 200
    assert len(stored.objects()) == 1


async def test_media_of_another_user_cannot_be_attached_to_a_post(
    client: httpx.AsyncClient, media_samples: MediaSamples
) -> None:
    alice = await user_headers(client, "alice")
    mallory = await user_headers(client, "mallory")
    media = await uploaded(client, alice, media_samples, "h264_mp4")
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"content": "x", "scheduled_time": when, "media_ids": [media["id"]]}

    response = await client.post("/posts/", json=body, headers=mallory)

    assert response.status_code == 422


async def test_delete_removes_the_object_and_hides_the_record(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    url = f"/api/v1/media/{media['id']}"

    response = await client.delete(url, headers=headers)

    assert response.status_code == 204
    assert stored.objects() == []
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.get(f"{url}/content", headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    [row] = await stored.rows()
    assert row["status"] == "deleted"
    assert row["deleted_at"] is not None
    again = await upload(client, headers, media_samples["h264_mp4"])
    assert again.status_code == 201  # deleted media are not reused
    assert again.json()["id"] != media["id"]


@pytest.mark.parametrize("status", ["scheduled", "publishing", "unconfirmed"])
async def test_delete_is_409_while_a_post_about_to_publish_uses_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    media_samples: MediaSamples,
    stored: Stored,
    status: str,
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    post = await post_using(client, headers, media["id"])
    await set_post_status(app, post["id"], status)

    response = await client.delete(f"/api/v1/media/{media['id']}", headers=headers)

    assert response.status_code == 409
    assert "used by 1 post(s) scheduled or being published" in response.json()["detail"]
    assert len(stored.objects()) == 1
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=headers)).status_code == 200


@pytest.mark.parametrize("status", ["draft", "published", "failed", "cancelled"])
async def test_delete_is_allowed_when_the_post_is_not_about_to_publish(
    app: FastAPI,
    client: httpx.AsyncClient,
    media_samples: MediaSamples,
    stored: Stored,
    status: str,
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    post = await post_using(client, headers, media["id"])
    await set_post_status(app, post["id"], status)

    response = await client.delete(f"/api/v1/media/{media['id']}", headers=headers)

    assert response.status_code == 204
    assert stored.objects() == []
    kept = await client.get(f"/posts/{post['id']}", headers=headers)
    assert kept.json()["media_ids"] == [media["id"]]  # the post keeps its link and metadata


async def test_a_post_created_with_media_answers_what_a_read_answers(
    client: httpx.AsyncClient, media_samples: MediaSamples
) -> None:
    """The create's answer (its INSERT's RETURNING) carries the media in order and the
    pre-flight report judged on them, as a later read of the post shows."""
    headers = await user_headers(client, "alice")
    first = await uploaded(client, headers, media_samples, "h264_mp4")
    post = await post_using(client, headers, first["id"])
    assert post["media_ids"] == [first["id"]]
    assert post["validation"]["needs_media"] is False
    read = await client.get(f"/posts/{post['id']}", headers=headers)
    assert read.json() == post
