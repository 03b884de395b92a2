"""Helpers for fault tests with real processes: a cuttable TCP proxy in its own thread,
the API (`tiktimer serve`) pointed at the standalone TikTok emulator, and a client that
keeps one keep-alive connection and records every answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.fixtures.tcp_proxy import TcpProxy


class ThreadedProxy:
    """`TcpProxy` on an event loop of its own, driven from synchronous test code."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._proxy = TcpProxy(target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._proxy.port

    def start(self) -> None:
        self._thread.start()
        self._call(self._proxy.start())

    def cut(self) -> None:
        """Like a database restart: every open connection dies, new ones are refused."""

        async def go() -> None:
            self._proxy.mode = "refuse"
            self._proxy.drop_connections()

        self._call(go())

    def restore(self) -> None:
        async def go() -> None:
            self._proxy.mode = "forward"

        self._call(go())

    def stop(self) -> None:
        self._call(self._proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)


@contextmanager
def proxied_database(url: str) -> Iterator[tuple[ThreadedProxy, str]]:
    """A proxy in front of the database of `url`, and the URL that goes through it."""
    parsed = make_url(url)
    proxy = ThreadedProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    proxy.start()
    try:
        through = parsed.set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)
    finally:
        proxy.stop()


@dataclass
class Answers:
    """Every answer a client got: status counts, the bodies of errors, transport errors."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)

    def record(self, call: Callable[[], httpx.Response]) -> httpx.Response | None:
        try:
            response = call()
        except httpx.TransportError as exc:
            self.transport_errors.append(f"{type(exc).__name__}: {exc}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append((response.status_code, response.text, dict(response.headers)))
        return response


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {seconds}s")
        time.sleep(0.2)
