"""The emulator's strictness, spoken to in raw HTTP: what a sloppy client gets refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.youtube.conftest import KIB256, Served, connect, make_client, video_bytes
from tiktimer.platforms.youtube.client import YouTubeClient

TITLE = {"snippet": {"title": "ok"}, "status": {"privacyStatus": "private"}}


@dataclass
class Raw:
    http: httpx.AsyncClient
    served: Served
    auth: dict[str, str]

    async def insert(
        self,
        body: Any = TITLE,
        *,
        part: str = "snippet,status",
        size: int = 3 * KIB256,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {
            **self.auth,
            "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Length": str(size),
            "X-Upload-Content-Type": "video/mp4",
        } | (headers or {})
        return await self.http.post(
            f"{self.served.url}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": part},
            content=json.dumps(body).encode(),
            headers=sent,
        )

    async def put(self, uri: str, body: bytes, content_range: str) -> httpx.Response:
        headers = {**self.auth, "Content-Range": content_range, "Content-Type": "video/mp4"}
        return await self.http.put(uri, content=body, headers=headers)


@pytest.fixture
async def raw(served: Served, clients: list[YouTubeClient]) -> AsyncIterator[Raw]:
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    async with httpx.AsyncClient() as http:
        yield Raw(http, served, {"Authorization": f"Bearer {tokens.access_token}"})


def _reason(response: httpx.Response) -> str:
    reason: str = response.json()["error"]["errors"][0]["reason"]
    return reason


async def test_a_non_final_chunk_off_the_256_kib_grid_is_refused(raw: Raw) -> None:
    uri = (await raw.insert()).headers["location"]
    data = video_bytes(3 * KIB256)

    wrong = await raw.put(uri, data[:300_000], f"bytes 0-299999/{3 * KIB256}")
    right = await raw.put(uri, data[:KIB256], f"bytes 0-{KIB256 - 1}/{3 * KIB256}")

    assert wrong.status_code == 400
    assert "262144" in wrong.json()["error"]["message"]
    assert right.status_code == 308
    assert right.headers["range"] == f"bytes=0-{KIB256 - 1}"


async def test_the_final_chunk_may_be_any_size(raw: Raw) -> None:
    size = KIB256 + 7
    uri = (await raw.insert(size=size)).headers["location"]
    data = video_bytes(size)
    await raw.put(uri, data[:KIB256], f"bytes 0-{KIB256 - 1}/{size}")

    last = await raw.put(uri, data[KIB256:], f"bytes {KIB256}-{size - 1}/{size}")

    assert last.status_code == 201
    assert last.json()["status"]["uploadStatus"] == "uploaded"
    assert len(last.json()["id"]) == 11


async def test_status_queries_before_and_after_bytes(raw: Raw) -> None:
    uri = (await raw.insert()).headers["location"]
    total = 3 * KIB256

    before = await raw.put(uri, b"", f"bytes */{total}")
    await raw.put(uri, video_bytes(KIB256), f"bytes 0-{KIB256 - 1}/{total}")
    after = await raw.put(uri, b"", f"bytes */{total}")

    assert before.status_code == 308
    assert "range" not in before.headers  # nothing stored: resume from 0
    assert after.headers["range"] == f"bytes=0-{KIB256 - 1}"


@pytest.mark.parametrize(
    ("content_range", "length"),
    [
        (f"bytes {KIB256}-{2 * KIB256 - 1}/{3 * KIB256}", KIB256),  # skips the first chunk
        (f"bytes 0-{KIB256 - 1}/{4 * KIB256}", KIB256),  # another total
        (f"bytes 0-{KIB256}/{3 * KIB256}", KIB256),  # range and length disagree
        ("bytes 0-/786432", KIB256),
    ],
)
async def test_chunks_that_do_not_fit_the_session_are_refused(
    raw: Raw, content_range: str, length: int
) -> None:
    uri = (await raw.insert()).headers["location"]
    response = await raw.put(uri, video_bytes(length), content_range)
    assert response.status_code == 400


async def test_a_restart_from_zero_is_refused(raw: Raw) -> None:
    uri = (await raw.insert()).headers["location"]
    total = 3 * KIB256
    await raw.put(uri, video_bytes(KIB256), f"bytes 0-{KIB256 - 1}/{total}")

    again = await raw.put(uri, video_bytes(KIB256), f"bytes 0-{KIB256 - 1}/{total}")

    assert again.status_code == 400


async def test_an_unknown_session_is_404(raw: Raw) -> None:
    uri = f"{raw.served.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id=nope"
    response = await raw.put(uri, b"", "bytes */10")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"snippet": {"title": "x" * 101}}, "invalidTitle"),
        ({"snippet": {"title": "a <b> c"}}, "invalidTitle"),
        ({"snippet": {"title": ""}}, "invalidTitle"),
        ({"snippet": {"title": "t", "description": "é" * 2501}}, "invalidDescription"),
        ({"snippet": {"title": "t", "tags": ["a b" * 1] * 100 + ["x" * 10]}}, "invalidTags"),
        ({"snippet": {"title": "t", "categoryId": "999"}}, "invalidCategoryId"),
        (
            {"snippet": {"title": "t"}, "status": {"privacyStatus": "secret"}},
            "invalidVideoMetadata",
        ),
        (
            {"snippet": {"title": "t"}, "status": {"selfDeclaredMadeForKids": "no"}},
            "invalidVideoMetadata",
        ),
        (
            {"snippet": {"title": "t"}, "status": {"containsSyntheticMedia": 1}},
            "invalidVideoMetadata",
        ),
        (
            {"snippet": {"title": "t"}, "status": {"publishAt": "2027-01-01T00:00:00Z"}},
            "invalidPublishAt",
        ),
    ],
)
async def test_metadata_beyond_youtubes_limits_is_refused_before_any_byte(
    raw: Raw, body: dict[str, Any], reason: str
) -> None:
    response = await raw.insert(body)
    assert response.status_code == 400
    assert _reason(response) == reason


async def test_metadata_at_the_limits_is_accepted(raw: Raw) -> None:
    tags = ["a b"] * 100 + ["x" * 99]  # 5 * 100 + 99 + 100 commas = 699: too long
    assert (await raw.insert({"snippet": {"title": "t", "tags": tags}})).status_code == 400
    tags = ["ab"] * 166 + ["c"]  # 2 * 166 + 1 + 166 commas = 499
    body = {
        "snippet": {"title": "x" * 100, "description": "é" * 2500, "tags": tags},
        "status": {"privacyStatus": "private", "publishAt": "2027-01-01T00:00:00Z"},
    }
    assert (await raw.insert(body)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Upload-Content-Length": "0"},
        {"X-Upload-Content-Length": "lots"},
        {"X-Upload-Content-Type": "image/png"},
        {"Content-Type": "text/plain"},
    ],
)
async def test_session_headers_are_required(raw: Raw, headers: dict[str, str]) -> None:
    assert (await raw.insert(headers=headers)).status_code == 400


async def test_parts_must_be_named_and_known(raw: Raw) -> None:
    assert _reason(await raw.insert(part="snippet,bogus")) == "unknownPart"
    assert _reason(await raw.insert(part="snippet")) == "unexpectedPart"  # body sets status
    assert _reason(await raw.insert(part="")) == "required"


async def test_a_missing_token_is_401(raw: Raw) -> None:
    response = await raw.insert(headers={"Authorization": "Bearer ya29.forged"})
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
