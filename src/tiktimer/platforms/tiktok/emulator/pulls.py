"""PULL_FROM_URL downloads: stream the media with httpx, count the bytes, keep none (§5.5)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress

import httpx


class PullFailed(Exception):
    """The media could not be fetched: a non-200 (redirects included), an error, a timeout."""


async def pull_media(
    urls: tuple[str, ...],
    *,
    on_bytes: Callable[[int], bool],
    transport: httpx.AsyncBaseTransport | None,
    timeout_seconds: float,
) -> None:
    """Download each URL in turn; `on_bytes` gets each piece's size and returns False to stop."""
    try:
        async with (
            asyncio.timeout(timeout_seconds),
            httpx.AsyncClient(transport=transport, follow_redirects=False) as client,
        ):
            for url in urls:
                async with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise PullFailed(f"{url}: HTTP {response.status_code}")
                    async for piece in response.aiter_raw():
                        if not on_bytes(len(piece)):
                            return
    except (httpx.HTTPError, TimeoutError) as exc:
        raise PullFailed(str(exc) or type(exc).__name__) from exc


class Downloads:
    """Background downloads, one asyncio task per publish_id, cancellable."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None, timeout_seconds: float) -> None:
        self._transport = transport
        self._timeout_seconds = timeout_seconds
        self._running: dict[str, asyncio.Task[None]] = {}

    def start(
        self,
        publish_id: str,
        urls: tuple[str, ...],
        *,
        on_bytes: Callable[[int], bool],
        on_finished: Callable[[bool, int], Awaitable[None]],
    ) -> None:
        """Begin downloading; `on_finished(succeeded, total_bytes)` runs unless cancelled."""
        task = asyncio.get_running_loop().create_task(self._run(urls, on_bytes, on_finished))
        self._running[publish_id] = task
        task.add_done_callback(lambda _: self._running.pop(publish_id, None))

    def cancel(self, publish_id: str) -> None:
        task = self._running.pop(publish_id, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> list[asyncio.Task[None]]:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        self._running.clear()
        return tasks

    async def aclose(self) -> None:
        tasks = self.cancel_all()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(
        self,
        urls: tuple[str, ...],
        on_bytes: Callable[[int], bool],
        on_finished: Callable[[bool, int], Awaitable[None]],
    ) -> None:
        total = 0

        def counted(count: int) -> bool:
            nonlocal total
            total += count
            return on_bytes(count)

        try:
            await pull_media(
                urls,
                on_bytes=counted,
                transport=self._transport,
                timeout_seconds=self._timeout_seconds,
            )
        except PullFailed:
            await on_finished(False, total)
        else:
            await on_finished(True, total)
