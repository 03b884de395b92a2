"""The upload path through a real `tiktimer serve` process: TCP disconnects and early 413s.

The server shares the test app's database, storage and data directory, so `stored` sees
what it keeps.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.server import running_server
from tests.fixtures.users import user_headers
from tests.media_api.helpers import MULTIPART, MiB, Stored, part_head, server_env
from tests.media_factory import MediaSamples
from tiktimer.media.spool import BATCH_SIZE


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


async def test_a_dropped_connection_leaves_nothing_behind(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: DatabaseUnderTest,
    stored: Stored,
    tmp_path: Path,
) -> None:
    headers = await user_headers(client, "alice")
    incoming = Path(app.state.services.upload_sessions.incoming_dir)
    head = part_head()
    declared = len(head) + int(1.8 * MiB)

    with running_server(tmp_path, env=server_env(app, database)) as base:
        address = urlsplit(base)
        with socket.create_connection((address.hostname, address.port)) as sock:
            sock.sendall(
                (
                    f"POST /api/v1/media HTTP/1.1\r\nHost: {address.netloc}\r\n"
                    f"Authorization: {headers['Authorization']}\r\n"
                    f"Content-Type: {MULTIPART}\r\nContent-Length: {declared}\r\n\r\n"
                ).encode()
                + head
                + b"\0" * (BATCH_SIZE + 65536)
            )
            spooling = wait_for(
                lambda: any(p.stat().st_size >= BATCH_SIZE for p in incoming.iterdir())
            )
        # The socket is closed mid-body: the server sees the client go away.
        cleaned = wait_for(lambda: not any(incoming.iterdir()))

    assert spooling, "the server never wrote the upload's first batch"
    assert cleaned, "the temporary file outlived the connection"
    assert await stored.nothing_kept()


async def test_curl_upload_and_early_413(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: DatabaseUnderTest,
    media_samples: MediaSamples,
    stored: Stored,
    tmp_path: Path,
) -> None:
    headers = await user_headers(client, "alice")
    too_big = tmp_path / "too-big.mp4"
    too_big.write_bytes(b"\0" * (app.state.services.settings.media.max_upload_bytes + 3 * MiB))

    def curl(base: str, path: Path) -> str:
        command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"]
        command += ["-H", f"Authorization: {headers['Authorization']}"]
        command += ["-F", f"file=@{path}", f"{base}/api/v1/media"]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    with running_server(tmp_path, env=server_env(app, database)) as base:
        accepted = curl(base, media_samples["h264_mp4"])
        started = time.monotonic()
        refused = curl(base, too_big)  # curl waits for `100 Continue`; the 413 comes first
        elapsed = time.monotonic() - started

    assert (accepted, refused) == ("201", "413")
    assert elapsed < 1.0
    assert len(stored.objects()) == 1
    assert stored.upload_files() == []
