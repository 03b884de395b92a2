"""Media given by URL: fetched through the SSRF guard (TIKTIMER_FETCH_ALLOW lets the test
reach loopback) into the library; a bad URL is the row's media problem."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.importing.helpers import csv_bytes, later, post_count, problems_by_row, send, statuses
from tests.media_factory import MediaSamples


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def media_server(samples: MediaSamples, tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server on loopback serving a real H.264 video as /clip.mp4."""
    (tmp_path / "clip.mp4").write_bytes(samples["h264_mp4"].read_bytes())
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_media_url_is_fetched_into_the_library(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, media_server: str
) -> None:
    good = {"account": str(account), "privacy": "SELF_ONLY"}
    rows = [
        {"caption": "from url", "time": later(), "media": f"{media_server}/clip.mp4", **good},
        {"caption": "missing", "time": later(), "media": f"{media_server}/gone.mp4", **good},
        {"caption": "private", "time": later(), "media": "https://10.0.0.7/a.mp4", **good},
    ]
    dry = await send(client, alice, csv_bytes(rows), dry_run=True)
    assert dry.status_code == 200, dry.text
    assert statuses(dry.json()) == {2: "valid", 3: "invalid", 4: "invalid"}
    assert problems_by_row(dry.json()) == {3: {"media"}, 4: {"media"}}
    messages = {p["row"]: p["message"] for p in dry.json()["problems"]}
    assert "HTTP 404" in messages[3]
    assert "private address" in messages[4]
    done = await send(client, alice, csv_bytes(rows[:1]))
    assert done.status_code == 200, done.text
    library = (await client.get("/api/v1/media", headers=alice)).json()
    [media] = library if isinstance(library, list) else library["items"]
    assert media["original_filename"] == "clip.mp4"
    [post] = (await client.get("/posts/", headers=alice)).json()
    assert post["media_ids"] == [media["id"]]
    assert await post_count(app) == 1
