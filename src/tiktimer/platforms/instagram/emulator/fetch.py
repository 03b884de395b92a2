"""Meta fetches `video_url` and `cover_url` itself (§4.1); the emulator never reaches the
internet. Bytes a test registered for a URL come first; otherwise only loopback hosts are
fetched (a fixture server), without following redirects. Anything else cannot be fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class FetchTimedOut(Exception):
    pass


class FetchFailed(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    head: bytes  # the first `head_bytes`
    size: int


class MediaSource:
    def __init__(self, transport: httpx.AsyncBaseTransport | None) -> None:
        self._registered: dict[str, bytes] = {}
        self._transport = transport

    def register(self, url: str, content: bytes) -> None:
        self._registered[url] = content

    async def fetch(
        self, url: str, head_bytes: int, max_bytes: int, read_seconds: float
    ) -> Fetched:
        """Read at most `max_bytes + 1` bytes (enough to tell "too big"), keep the head."""
        if url in self._registered:
            content = self._registered[url]
            return Fetched(content[:head_bytes], len(content))
        if (urlsplit(url).hostname or "") not in LOOPBACK_HOSTS:
            raise FetchFailed("not registered and not on loopback")
        return await self._download(url, head_bytes, max_bytes, read_seconds)

    async def _download(
        self, url: str, head_bytes: int, max_bytes: int, read_seconds: float
    ) -> Fetched:
        head, size = bytearray(), 0
        try:
            async with (
                httpx.AsyncClient(transport=self._transport, timeout=read_seconds) as http,
                http.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise FetchFailed(f"HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    if len(head) < head_bytes:
                        head += chunk[: head_bytes - len(head)]
                    size += len(chunk)
                    if size > max_bytes:
                        break
        except httpx.TimeoutException as exc:
            raise FetchTimedOut(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(str(exc)) from exc
        return Fetched(bytes(head), size)
