"""A minimal asyncio Redis client (RESP2): just what pacing needs, without a dependency.

One connection, one command at a time, reconnecting after any failure. URLs:
`redis://[[user]:password@]host[:port][/db]`, and `rediss://` for TLS.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

CONNECT_TIMEOUT_SECONDS = 2.0
COMMAND_TIMEOUT_SECONDS = 2.0


class RedisError(Exception):
    """Redis answered with an error, or the protocol broke."""


@dataclass(frozen=True)
class RedisAddress:
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError("TIKTIMER_REDIS_URL must start with redis:// or rediss://")
        path = parts.path.strip("/")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=int(path) if path else 0,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=parts.scheme == "rediss",
        )


class RedisClient:
    def __init__(self, address: RedisAddress) -> None:
        self.address = address
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    def from_url(cls, url: str) -> RedisClient:
        return cls(RedisAddress.parse(url))

    async def eval(self, script: str, keys: Sequence[str], args: Sequence[str]) -> Any:
        return await self.command("EVAL", script, str(len(keys)), *keys, *args)

    async def command(self, *parts: str) -> Any:
        async with self._lock:
            try:
                async with asyncio.timeout(COMMAND_TIMEOUT_SECONDS):
                    reader, writer = await self._connection()
                    writer.write(_encode(parts))
                    await writer.drain()
                    return await _read_reply(reader)
            except BaseException:
                await self._drop()
                raise

    async def aclose(self) -> None:
        async with self._lock:
            await self._drop()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is not None and self._writer is not None:
            return self._reader, self._writer
        address = self.address
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(
                address.host,
                address.port,
                ssl=ssl.create_default_context() if address.tls else None,
            )
        self._reader, self._writer = reader, writer
        if address.password is not None:
            credentials = (
                [address.username, address.password] if address.username else [address.password]
            )
            writer.write(_encode(["AUTH", *credentials]))
            await writer.drain()
            await _read_reply(reader)
        if address.db:
            writer.write(_encode(["SELECT", str(address.db)]))
            await writer.drain()
            await _read_reply(reader)
        return reader, writer

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ConnectionError):
                pass


def _encode(parts: Sequence[str]) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _read_reply(reader: asyncio.StreamReader) -> Any:
    line = await reader.readline()
    if not line.endswith(b"\r\n"):
        raise RedisError("connection closed by Redis")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        raise RedisError(body.decode())
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = await reader.readexactly(size + 2)
        return data[:-2].decode()
    if kind == b"*":
        count = int(body)
        if count < 0:
            return None
        return [await _read_reply(reader) for _ in range(count)]
    raise RedisError(f"unexpected reply from Redis: {line[:40]!r}")
