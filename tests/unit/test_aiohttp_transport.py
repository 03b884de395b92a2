"""The aiohttp transport over real loopback sockets: bodies, and what each failure means.

A side-effecting call may be retried blindly only when the request never left; the
transport must say "connect error" for that case alone, and a read error for a connection
that dropped after the request was sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tiktimer.kit.aiohttp_transport import AiohttpTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return request_line.encode(), headers, body


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=5.0) as http:
        yield http


async def test_a_streamed_body_arrives_whole_with_its_length(client: httpx.AsyncClient) -> None:
    seen: dict[str, object] = {}

    async def echo_digest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, headers, body = await _read_request(reader)
        seen.update(line=line, headers=headers)
        answer = hashlib.sha256(body).hexdigest().encode()
        writer.write(
            b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Twice: a\r\nX-Twice: b\r\n"
            b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer
        )
        await writer.drain()
        writer.close()

    server, base = await _serve(echo_digest)
    parts = [bytes([n]) * 70_000 for n in range(5)]

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    async with server:
        response = await client.put(
            f"{base}/upload?id=7",
            content=chunks(),
            headers={"Content-Length": str(70_000 * 5), "Content-Range": "bytes 0-349999/350000"},
        )
    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.text == hashlib.sha256(b"".join(parts)).hexdigest()
    assert response.headers.get_list("x-twice") == ["a", "b"]
    assert seen["line"] == b"PUT /upload?id=7 HTTP/1.1"
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["content-length"] == "350000"
    assert "transfer-encoding" not in headers
    assert headers["content-range"] == "bytes 0-349999/350000"


async def test_json_round_trip_and_keep_alive(client: httpx.AsyncClient) -> None:
    peers: set[tuple[str, int]] = set()

    async def json_twice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.add(writer.get_extra_info("peername"))
        for _ in range(2):
            _, _, body = await _read_request(reader)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()

    server, base = await _serve(json_twice)
    async with server:
        first = await client.post(f"{base}/a", json={"n": 1})
        second = await client.post(f"{base}/b", json={"n": "two"})
    assert first.json() == {"n": 1}
    assert second.json() == {"n": "two"}
    assert len(peers) == 1  # the second request reused the first one's connection


async def test_nothing_listening_is_a_connect_error(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await client.post(f"http://127.0.0.1:{port}/init", json={})


async def test_a_connection_dropped_after_the_request_is_not_a_connect_error(
    client: httpx.AsyncClient,
) -> None:
    """The server read the whole request (it may have acted), then hung up."""
    received = asyncio.Event()

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        received.set()
        writer.close()

    server, base = await _serve(hang_up)
    async with server:
        with pytest.raises(httpx.RequestError) as caught:
            await client.post(f"{base}/init", json={"side": "effect"})
    assert received.is_set()
    assert isinstance(caught.value, httpx.RemoteProtocolError | httpx.ReadError)
    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)


async def test_a_reply_cut_mid_body_is_a_read_error(client: httpx.AsyncClient) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        writer.close()

    server, base = await _serve(cut)
    async with server:
        with pytest.raises(httpx.RequestError) as caught:
            await client.get(f"{base}/status")
    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    server, base = await _serve(silent)
    timeout = httpx.Timeout(0.3, connect=2.0)
    async with server, httpx.AsyncClient(transport=AiohttpTransport(), timeout=timeout) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(f"{base}/status", json={})
