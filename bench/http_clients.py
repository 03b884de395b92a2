"""HTTP clients on a worker's workload: client CPU per request, httpx against aiohttp.

    python bench/http_clients.py [--requests 4000] [--concurrency 20 200]

A server process (uvicorn, a bare ASGI app answering like TikTok's API) and, in this
process, the same requests through three clients: httpx on its own pool (httpcore),
httpx on `tiktimer.kit.aiohttp_transport` (what the TikTok client uses), and aiohttp
alone. Two shapes: a JSON POST (creator_info, init, status) and a 1 MiB PUT (an upload
chunk). The figure is this process's CPU per request (the server's is not counted), and
each client's ratio to httpx's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from tests.fixtures.server import free_port  # noqa: E402

from tiktimer.kit.aiohttp_transport import AiohttpTransport  # noqa: E402

ANSWER = json.dumps(
    {
        "data": {"publish_id": "v_pub_file~v2-1.7412345678901234567", "upload_url": "x"},
        "error": {"code": "ok", "message": "", "log_id": "20261208000000ABCDEF"},
    }
).encode()
PAYLOAD = {
    "post_info": {"title": "a caption #tag", "privacy_level": "SELF_ONLY"},
    "source_info": {"source": "FILE_UPLOAD", "video_size": 1 << 20, "chunk_size": 1 << 20},
}
CHUNK = b"v" * (1 << 20)


async def app(scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
    """Reads the whole body, answers a TikTok-sized JSON envelope."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ANSWER))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})


Send = Callable[[], Awaitable[None]]


def _httpx_sender(client: httpx.AsyncClient, url: str, shape: str) -> Send:
    async def send() -> None:
        if shape == "put":
            response = await client.put(url, content=CHUNK, headers={"Content-Range": "b"})
        else:
            response = await client.post(url, json=PAYLOAD, headers={"Authorization": "Bearer t"})
        response.json()

    return send


def _aiohttp_sender(session: aiohttp.ClientSession, url: str, shape: str) -> Send:
    async def send() -> None:
        if shape == "put":
            request = session.put(url, data=CHUNK, headers={"Content-Range": "b"})
        else:
            request = session.post(url, json=PAYLOAD, headers={"Authorization": "Bearer t"})
        async with request as response:
            await response.json()

    return send


async def _measure(send: Send, requests: int, concurrency: int) -> float:
    """CPU seconds of this process per request (after one warm-up round)."""
    each = max(1, requests // concurrency)

    async def lane() -> None:
        for _ in range(each):
            await send()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    started = time.process_time()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return (time.process_time() - started) / (each * concurrency)


async def _run(client: str, url: str, shape: str, requests: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if client == "aiohttp":
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            return await _measure(_aiohttp_sender(session, url, shape), requests, concurrency)
    transport = AiohttpTransport(limits=limits) if client == "httpx+aiohttp" else None
    async with httpx.AsyncClient(transport=transport, limits=limits, timeout=30) as http:
        return await _measure(_httpx_sender(http, url, shape), requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 200])
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.http_clients:app", "--port", str(port)]
        + ["--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
    )
    try:
        url = f"http://127.0.0.1:{port}/v2/post/publish/video/init/"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for shape in ("post", "put"):
            requests = args.requests if shape == "post" else args.requests // 4
            for concurrency in args.concurrency:
                baseline = None
                for client in ("httpx", "httpx+aiohttp", "aiohttp"):
                    cpu = asyncio.run(_run(client, url, shape, requests, concurrency))
                    baseline = baseline or cpu
                    print(
                        f"{shape:4s} concurrency {concurrency:3d} {client:14s} "
                        f"{cpu * 1e6:7.0f} µs CPU/request  ({cpu / baseline:.2f}× httpx)"
                    )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
