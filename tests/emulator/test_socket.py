"""Over a real socket (uvicorn), as when the emulator runs as its own process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from tests.emulator.flows import AUDITED_KEY, chunk_ranges, generated_bytes, make_config, video_body
from tiktimer.platforms.tiktok.emulator import create_emulator_app


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = create_emulator_app(make_config(processing_seconds=0))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


async def test_publish_over_http_with_admin_tokens(base_url: str) -> None:
    size, chunk = 70_000_000, 10_000_000
    async with httpx.AsyncClient(base_url=base_url) as http:
        tokens = await http.post(
            "/_emulator/tokens", json={"client_key": AUDITED_KEY, "username": "alice"}
        )
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        body = video_body(video_size=size, chunk_size=chunk, count=7, title="over the wire")
        init = await http.post("/v2/post/publish/video/init/", headers=headers, json=body)
        upload_url = init.json()["data"]["upload_url"]

        statuses = []
        for first, last in chunk_ranges(size, chunk, 7):
            response = await http.put(
                upload_url,
                content=generated_bytes(last - first + 1, start=first),
                headers={
                    "Content-Type": "video/mp4",
                    "Content-Length": str(last - first + 1),
                    "Content-Range": f"bytes {first}-{last}/{size}",
                },
            )
            statuses.append(response.status_code)
        count = await http.get(
            "/_emulator/publications/count",
            params={"caption": "over the wire", "status": "PUBLISH_COMPLETE"},
        )

    assert upload_url.startswith(base_url + "/upload/video/")
    assert statuses == [206] * 6 + [201]
    assert count.json() == {"count": 1}


async def test_dropped_connection_and_hang_over_the_socket(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=0.3) as http:
        for kind in ("drop", "hang"):
            fault = {"endpoint": "creator_info", "kind": kind, "seconds": 0.6}
            assert (await http.post("/_emulator/faults", json=fault)).status_code == 201
        token = (
            await http.post(
                "/_emulator/tokens", json={"client_key": AUDITED_KEY, "username": "bob"}
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/v2/post/publish/creator_info/query/", headers=headers)
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/v2/post/publish/creator_info/query/", headers=headers)
        fine = await http.post("/v2/post/publish/creator_info/query/", headers=headers)

    assert fine.status_code == 200
