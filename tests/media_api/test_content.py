"""`GET /api/v1/media/{id}/content`: the stored bytes, whole or by range, on both storages."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.users import user_headers
from tests.media_api.helpers import upload
from tests.media_factory import MediaSamples
from tiktimer.media.ranges import ByteRange, Unsatisfiable, parse_range


@pytest.fixture
async def video(
    client: httpx.AsyncClient, media_samples: MediaSamples
) -> tuple[str, dict[str, str], bytes]:
    headers = await user_headers(client, "alice")
    sample = media_samples["h264_mp4"]
    response = await upload(client, headers, sample)
    assert response.status_code == 201, response.text
    return f"/api/v1/media/{response.json()['id']}/content", headers, sample.read_bytes()


async def test_whole_content(
    client: httpx.AsyncClient, video: tuple[str, dict[str, str], bytes]
) -> None:
    url, headers, data = video

    response = await client.get(url, headers=headers)

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["accept-ranges"] == "bytes"
    assert "content-range" not in response.headers


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, None),
        ("bytes=-64", -64, None),
        ("bytes=10-10", 10, 11),
        ("bytes=5-999999999", 5, None),  # an end past the content is clipped
        ("bytes=-999999999", 0, None),  # so is a suffix longer than the content
    ],
)
async def test_ranges(
    client: httpx.AsyncClient,
    video: tuple[str, dict[str, str], bytes],
    spec: str,
    start: int,
    end: int | None,
) -> None:
    url, headers, data = video
    expected = data[start:end]
    first = len(data) + start if start < 0 else start

    response = await client.get(url, headers={**headers, "Range": spec})

    assert response.status_code == 206
    assert response.content == expected
    last = first + len(expected) - 1
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
    assert response.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("spec", ["bytes=999999999-", "bytes=-0"])
async def test_unsatisfiable_range_is_416(
    client: httpx.AsyncClient, video: tuple[str, dict[str, str], bytes], spec: str
) -> None:
    url, headers, data = video

    response = await client.get(url, headers={**headers, "Range": spec})

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("spec", ["bytes=0-1,5-6", "bytes=9-3", "items=0-5", "bytes=x-"])
async def test_ranges_we_do_not_serve_get_the_whole_content(
    client: httpx.AsyncClient, video: tuple[str, dict[str, str], bytes], spec: str
) -> None:
    url, headers, data = video

    response = await client.get(url, headers={**headers, "Range": spec})

    assert response.status_code == 200
    assert response.content == data


async def test_if_range_and_if_none_match_use_the_sha256_etag(
    client: httpx.AsyncClient, video: tuple[str, dict[str, str], bytes]
) -> None:
    url, headers, data = video
    etag = (await client.get(url, headers=headers)).headers["etag"]

    same = await client.get(url, headers={**headers, "Range": "bytes=0-9", "If-Range": etag})
    other = await client.get(url, headers={**headers, "Range": "bytes=0-9", "If-Range": '"x"'})
    cached = await client.get(url, headers={**headers, "If-None-Match": etag})

    assert (same.status_code, same.content) == (206, data[:10])
    assert (other.status_code, other.content) == (200, data)
    assert (cached.status_code, cached.content) == (304, b"")


async def test_content_needs_a_login(
    client: httpx.AsyncClient, video: tuple[str, dict[str, str], bytes]
) -> None:
    url, _, _ = video
    assert (await client.get(url)).status_code == 401


def test_parse_range_rules() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == ByteRange(2, 5)
    assert parse_range(" Bytes = 2 - ", 10) == ByteRange(2, 10)
    assert parse_range("bytes=-3", 10) == ByteRange(7, 10)
    assert parse_range("bytes=-", 10) is None
    assert ByteRange(2, 5).content_range(10) == "bytes 2-4/10"
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=10-", 10)
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=-1", 0)
