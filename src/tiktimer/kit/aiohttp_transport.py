"""An httpx transport that sends through aiohttp: httpx's API at a fraction of its CPU.

httpx's own pool (httpcore) costs 1.5–3.7 ms of CPU per request on a worker's workload,
more than everything else a post needs; aiohttp's costs about 0.2 ms, and this transport
with httpx's client on top about 0.5 ms (`bench/http_clients.py`). Callers keep httpx:
its requests, responses, timeouts and exceptions.

The exceptions are the point of writing this here rather than taking a package: what a
failure means for a side-effecting call depends on whether the request left. Only a
failure to *connect* becomes `httpx.ConnectError`/`ConnectTimeout` (nothing was sent);
a connection dropped later (`ServerDisconnectedError`, a reset, a broken body) is a
`ReadError`/`RemoteProtocolError`, so a client knows the platform may have acted. (The
`httpx-aiohttp` package maps every `ClientConnectionError`, server disconnects included,
to `ConnectTimeout`, which would make a lost init look unsent.)

Timeouts: httpx's `connect` is aiohttp's `sock_connect`, `pool` its `connect` (waiting for
a pooled connection), `read` its `sock_read`. aiohttp has no write timeout: a body the
server stops reading is bounded by the caller (the dispatcher's lease fences every post).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
READ_CHUNK = 64 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (its connection pool), opened on first use in the running loop."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._limits = limits
        self._ssl: ssl.SSLContext | bool = (
            httpx.create_ssl_context(verify=verify) if verify is True else verify
        )
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                keepalive_timeout=self._limits.keepalive_expiry or 5.0,
                ssl=self._ssl,
            )
            # No cookies, no decompression, no redirects: httpx's client does those.
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        timeout = request.extensions.get("timeout", {})
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() != "transfer-encoding"  # aiohttp frames the body itself
        ]
        try:
            response = await session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=_body(request),
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            ).__aenter__()
        except Exception as exc:
            raise _mapped(exc, request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _body(request: httpx.Request) -> bytes | AsyncIterator[bytes] | None:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return _stream(request.stream)  # type: ignore[arg-type]
    return content or None


async def _stream(stream: httpx.AsyncByteStream) -> AsyncIterator[bytes]:
    async for part in stream:
        yield part


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._response.content.iter_chunked(READ_CHUNK):
                yield part
        except Exception as exc:
            raise _mapped(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


def _mapped(exc: Exception, request: httpx.Request) -> Exception:
    """The httpx exception saying how far the request got (see the module docstring)."""
    message = str(exc) or type(exc).__name__
    kind: type[httpx.RequestError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout  # connecting, or waiting for a pooled connection
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError  # no connection: nothing was sent
    elif isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientError | OSError):
        kind = httpx.ReadError
    else:
        return exc
    return kind(message, request=request)
