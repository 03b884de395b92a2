"""Numbers past what the database stores never reach it, on SQLite and PostgreSQL.

An id in a path that cannot exist is 404, like any unknown id; other numbers (query,
body, form) are 422 naming the field. The routes come from the app's own OpenAPI
document, so a new route is covered without editing this file.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tests.hostile.helpers import HOSTILE_INTS, admin_headers, fill, future, operations, parameters

BODY_INTS = ("social_account_id", "video_cover_timestamp_ms", "photo_cover_index")


async def test_out_of_range_path_ids_are_404_on_every_route(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = await admin_headers(client, app)
    checked = 0
    for method, path, operation in operations(app):
        for name in parameters(operation, "path", "integer"):
            for value in HOSTILE_INTS:
                url = fill(path, {name: value})
                response = await client.request(method, url, headers=headers)
                assert response.status_code == 404, (method, url, response.text)
                if method != "HEAD":
                    assert isinstance(response.json()["detail"], str), (method, url)
                checked += 1
    assert checked >= 10 * len(HOSTILE_INTS)  # posts, publishing, accounts, admin…


async def test_the_404_of_an_impossible_id_is_the_404_of_an_unknown_one(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    unknown = await client.get("/posts/12345", headers=headers)
    impossible = await client.get(f"/posts/{2**63}", headers=headers)
    assert unknown.status_code == impossible.status_code == 404
    assert unknown.json() == impossible.json() == {"detail": "Post not found"}


async def test_out_of_range_query_integers_are_422_naming_the_parameter(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = await admin_headers(client, app)
    checked = 0
    for method, path, operation in operations(app):
        for name in parameters(operation, "query", "integer"):
            for value in (2**31, 2**63, 2**64, -1):
                url = fill(path, {})
                response = await client.request(
                    method, url, params={name: str(value)}, headers=headers
                )
                assert response.status_code == 422, (method, url, name, value, response.text)
                locs = [e["loc"] for e in response.json()["detail"]]
                assert ["query", name] in locs, (method, url, locs)
                checked += 1
    assert checked >= 4 * 4  # posts, media, admin users, disconnect…


@pytest.mark.parametrize("field", BODY_INTS)
@pytest.mark.parametrize("value", [2**31, 2**63, 2**64, -1])
async def test_out_of_range_body_integers_are_422_naming_the_field(
    client: httpx.AsyncClient, field: str, value: int
) -> None:
    headers = await user_headers(client, "alice")
    body = {"content": "x", "scheduled_time": future(), "draft": True, field: value}
    for method, url in (("POST", "/posts/"), ("POST", "/api/v1/tiktok/posts/validate")):
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    draft = await client.post(
        "/posts/", json={"content": "x", "scheduled_time": future(), "draft": True}, headers=headers
    )
    patched = await client.patch(
        f"/posts/{draft.json()['id']}", json={field: value}, headers=headers
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["detail"][0]["loc"] == ["body", field]


async def test_the_largest_stored_numbers_still_work(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    body = {
        "content": "x",
        "scheduled_time": future(),
        "draft": True,
        "video_cover_timestamp_ms": 2**31 - 1,
    }
    created = await client.post("/posts/", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["video_cover_timestamp_ms"] == 2**31 - 1
    page = await client.get("/posts/", params={"offset": 2**31 - 1}, headers=headers)
    assert page.status_code == 200
    assert page.json() == []
    assert page.headers["X-Total-Count"] == "1"
    missing = await client.get(f"/posts/{2**31 - 1}", headers=headers)
    assert missing.status_code == 404


async def test_a_huge_number_written_out_in_digits_is_refused_cleanly(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    digits = "9" * 5000  # past Python's int-from-text limit
    assert (await client.get(f"/posts/{digits}", headers=headers)).status_code == 404
    page = await client.get(f"/posts/?offset={digits}", headers=headers)
    assert page.status_code == 422
    assert page.json()["detail"][0]["loc"] == ["query", "offset"]


async def test_hostile_tus_numbers_are_4xx(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    for length in (str(2**64).encode(), b"\xb2", b"9" * 5000, b"-1"):  # \xb2: a latin-1 "²"
        raw = {name.encode(): value.encode() for name, value in headers.items()}
        response = await client.post(
            "/api/v1/media/uploads", headers={**raw, b"Upload-Length": length}
        )
        assert response.status_code in (400, 413), (length, response.text)
    created = await client.post("/api/v1/media/uploads", headers={**headers, "Upload-Length": "4"})
    url = created.headers["Location"]
    for offset in (str(2**64), "-1"):
        response = await client.patch(
            url,
            content=b"abcd",
            headers={
                **headers,
                "Upload-Offset": offset,
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert response.status_code in (409, 422), (offset, response.text)
