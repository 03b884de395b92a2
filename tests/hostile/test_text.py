"""NUL (which PostgreSQL text refuses) is a 422 naming the field, the same on both backends.

JSON bodies, the login form, multipart text fields, query filters and path strings.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.users import DEFAULT_PASSWORD, register, user_headers
from tests.hostile.helpers import future
from tests.media_factory import write_video
from tiktimer.kit.text import UNSTORABLE_TYPE

NUL = "a\x00b"


def refused(response: httpx.Response, *loc: str) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert {"loc": list(loc), "type": UNSTORABLE_TYPE} in [
        {"loc": e["loc"], "type": e["type"]} for e in errors
    ], errors


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=1.0)


@pytest.mark.parametrize("field", ["username", "password"])
async def test_nul_in_the_login_form(client: httpx.AsyncClient, field: str) -> None:
    await register(client, "alice")
    form = {"username": "alice", "password": DEFAULT_PASSWORD, field: NUL}
    refused(await client.post("/token", data=form), "body", field)


@pytest.mark.parametrize("field", ["content", "title"])
async def test_nul_in_a_caption_or_title(client: httpx.AsyncClient, field: str) -> None:
    headers = await user_headers(client, "alice")
    body = {"content": "x", "scheduled_time": future(), "draft": True, field: NUL}
    refused(await client.post("/posts/", json=body, headers=headers), "body", field)
    refused(
        await client.post("/api/v1/tiktok/posts/validate", json=body, headers=headers),
        "body",
        field,
    )
    draft = await client.post(
        "/posts/", json={"content": "x", "scheduled_time": future(), "draft": True}, headers=headers
    )
    post_id = draft.json()["id"]
    refused(
        await client.patch(f"/posts/{post_id}", json={field: NUL}, headers=headers), "body", field
    )
    kept = await client.get(f"/posts/{post_id}", headers=headers)
    assert kept.json()["content"] == "x"


async def test_nul_inside_a_list_and_in_other_bodies(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    body = {"content": "x", "scheduled_time": future(), "draft": True, "media_ids": ["ok", NUL]}
    refused(await client.post("/posts/", json=body, headers=headers), "body", "media_ids")
    refused(
        await client.post("/auth/refresh", json={"refresh_token": NUL}), "body", "refresh_token"
    )
    user = {"username": "bob", "email": "bob@example.com", "password": "x" * 12, "timezone": NUL}
    refused(await client.post("/register", json=user), "body", "timezone")
    exchange = {"code": NUL, "state": "s"}
    refused(
        await client.post("/api/v1/auth/tiktok/exchange-token", json=exchange, headers=headers),
        "body",
        "code",
    )


@pytest.mark.parametrize("field", ["content", "title"])
async def test_nul_in_multipart_text_fields(
    client: httpx.AsyncClient, clip: Path, field: str
) -> None:
    headers = await user_headers(client, "alice")
    fields = {"content": "x", "scheduled_time": future(), field: NUL}
    with clip.open("rb") as f:
        response = await client.post(
            "/api/v1/tiktok/posts/",
            data=fields,
            files={"video": ("clip.mp4", f, "video/mp4")},
            headers=headers,
        )
    refused(response, "body", field)
    assert (await client.get("/posts/", headers=headers)).json() == []


async def test_nul_in_query_filters_and_path_strings(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    for name in ("platform", "status"):
        response = await client.get("/posts/", params={name: NUL}, headers=headers)
        assert response.status_code == 422
        assert ["query", name] in [e["loc"] for e in response.json()["detail"]]
    refused(await client.get("/api/v1/media/a%00b", headers=headers), "path", "media_id")
    refused(await client.get("/api/v1/media/a%00b/content", headers=headers), "path", "media_id")
    refused(await client.get("/api/v1/media/uploads/a%00b", headers=headers), "path", "upload_id")
    refused(await client.get("/api/v1/auth/tiktok/callback?state=a%00b"), "query", "state")


async def test_lone_surrogates_are_refused_too(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    raw = b'{"content": "a\\ud800b", "scheduled_time": "2031-01-01T00:00:00Z", "draft": true}'
    response = await client.post(
        "/posts/", content=raw, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "content"]
    # A surrogate in a key is echoed in `loc`: the answer must still be valid UTF-8 JSON.
    key = b'{"a\\udc80": 1, "content": "x", "scheduled_time": "2031-01-01T00:00:00Z"}'
    response = await client.post(
        "/posts/", content=key, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


async def test_text_beside_nul_is_kept_as_sent(client: httpx.AsyncClient) -> None:
    """Only NUL is refused: other control characters and any Unicode are stored as sent."""
    headers = await user_headers(client, "alice")
    caption = "tab\there, bell\x07, emoji 🎬, RTL \u202e, BOM \ufeff"
    body = {"content": caption, "scheduled_time": future(), "draft": True}
    created = await client.post("/posts/", json=body, headers=headers)
    assert created.status_code == 201, created.text
    read = await client.get(f"/posts/{created.json()['id']}", headers=headers)
    assert read.json()["content"] == caption
