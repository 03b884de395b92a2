"""Oversized, deep and error-heavy JSON bodies get small, quick 4xx answers.

JSON bodies are capped (TIKTIMER_MAX_JSON_BODY_KB, 1024 by default) before parsing; a 422
lists a bounded excerpt of what was wrong, never the input. Uploads keep their own limits.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tests.hostile.helpers import MAX_422_BYTES
from tiktimer.posts.schemas import PostCreate
from tiktimer.webhooks.signature import HEADER, sign

MIB = 1024 * 1024


def unknown_keys(size: int) -> bytes:
    """A JSON object of about `size` bytes, every key unknown to every schema."""
    count = size // 16  # '"k0000000000":1,' is 16 bytes
    return json.dumps({f"k{i:010d}": 1 for i in range(count)}, separators=(",", ":")).encode()


async def test_a_json_body_over_the_cap_is_413_before_parsing(client: httpx.AsyncClient) -> None:
    body = unknown_keys(2 * MIB)
    for url in ("/register", "/auth/refresh", "/posts/"):
        response = await client.post(
            url, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413, (url, response.text[:200])
        assert "KiB" in response.json()["detail"]


async def test_the_cap_counts_a_body_without_content_length(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(32):
            yield b" " * (64 * 1024)  # 2 MiB of JSON whitespace, sent chunked

    response = await client.post(
        "/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    form = await client.post(
        "/token",
        content=b"username=" + b"a" * (2 * MIB),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 413


async def test_a_10_mb_body_of_unknown_keys_is_answered_small_and_fast(
    client: httpx.AsyncClient,
) -> None:
    body = unknown_keys(10 * MIB)
    for url in ("/register", "/auth/refresh"):
        started = time.perf_counter()
        response = await client.post(
            url, content=body, headers={"Content-Type": "application/json"}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code in (413, 422)
        assert len(response.content) < MAX_422_BYTES
        assert elapsed < 1.0, elapsed


async def test_a_body_of_unknown_keys_under_the_cap_is_one_quick_error(
    client: httpx.AsyncClient,
) -> None:
    body = unknown_keys(MIB - 4096)  # ~65k unknown keys: just under the cap
    started = time.perf_counter()
    response = await client.post(
        "/register", content=body, headers={"Content-Type": "application/json"}
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 422
    assert len(response.content) < 1024
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["type"] == "extra_forbidden"
    assert f"{(MIB - 4096) // 16} unknown fields" in error["msg"]
    assert elapsed < 1.0, elapsed


async def test_a_422_lists_at_most_20_errors_and_counts_the_rest(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    fields = PostCreate.model_fields
    body = {name: {"wrong": "type"} for name in fields} | {f"extra{i}": 1 for i in range(5)}
    response = await client.post("/posts/", json=body, headers=headers)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == 21
    assert all(set(e) == {"loc", "msg", "type"} for e in detail)
    total = len(fields) + 5
    assert detail[-1] == {
        "loc": [],
        "msg": f"{total - 20} more errors not shown",
        "type": "too_many_errors",
    }


async def test_long_keys_and_long_inputs_are_cut_short(client: httpx.AsyncClient) -> None:
    huge = "z" * (500 * 1024)
    response = await client.post(
        "/register",
        json={"username": "bob", "email": "b@example.com", "password": "x" * 12, huge: 1},
    )
    assert response.status_code == 422
    assert len(response.content) < 1024
    headers = await user_headers(client, "alice")
    zone = await client.patch("/users/me", json={"timezone": huge}, headers=headers)
    assert zone.status_code == 422
    assert len(zone.content) < 1024
    assert "z" * 250 not in zone.text  # no more than a short excerpt of the input


async def test_deeply_nested_json_is_422_not_500(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = b'{"content": ' + deep + b', "scheduled_time": "2031-01-01T00:00:00Z"}'
    for url in ("/posts/", "/register", "/auth/refresh", "/api/v1/tiktok/posts/validate"):
        started = time.perf_counter()
        response = await client.post(
            url, content=nested, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, (url, response.text[:300])
        assert response.json()["detail"][0]["type"] == "json_invalid"
        assert time.perf_counter() - started < 1.0
    # Nested, but within what the parser takes: refused by the schema, quickly and small.
    shallow = (
        b'{"content": ' + b"[" * 500 + b"]" * 500 + b', "scheduled_time": "2031-01-01T00:00:00Z"}'
    )
    response = await client.post(
        "/posts/", content=shallow, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert len(response.content) < MAX_422_BYTES


async def test_a_signed_webhook_nested_deeply_or_with_nul_is_400_not_500(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    secret = app.state.services.webhook_settings.client_secret
    deep = b'{"event": "x", "content": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    nul = b'{"event": "authorization.removed", "user_openid": "a\\u0000b"}'
    long_event = json.dumps({"event": "e" * 65}).encode()
    for body in (deep, nul, long_event):
        response = await client.post(
            "/api/v1/webhooks/tiktok",
            content=body,
            headers={
                "Content-Type": "application/json",
                HEADER: sign(secret, body, int(time.time())),
            },
        )
        assert response.status_code == 400, response.text
        assert "Webhook refused" in response.json()["detail"]


async def test_uploads_are_not_json_and_keep_their_own_limits(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    size = 3 * MIB
    created = await client.post(
        "/api/v1/media/uploads", headers={**headers, "Upload-Length": str(size)}
    )
    assert created.status_code == 201, created.text
    chunk = await client.patch(
        created.headers["Location"],
        content=b"\0" * size,
        headers={
            **headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert chunk.status_code == 204, chunk.text
    assert chunk.headers["Upload-Offset"] == str(size)
