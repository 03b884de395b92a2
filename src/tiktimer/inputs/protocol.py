"""The HTTP/1.1 protocol `tiktimer serve` runs: uvicorn's httptools one, with a bounded head.

uvicorn's fast httptools protocol reads a request line and headers of any size (a client
can send megabytes of headers); its h11 protocol stops at `h11_max_incomplete_event_size`.
This subclass honours that same uvicorn option: a head still incomplete after growing past
it in later reads of the socket is refused with 431 and the connection closed. The first
read of a head is not counted, as it may hold the end of the previous request, so memory
stays within the limit plus one read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

PROTOCOL_PATH = "tiktimer.inputs.protocol:BoundedHttpToolsProtocol"
DEFAULT_MAX_HEAD_BYTES = 16 * 1024
_TOO_LARGE_BODY = b'{"detail":"Request headers too large"}'
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_TOO_LARGE_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TOO_LARGE_BODY
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._max_head = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self._head_open = False
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True
        self._head_bytes = -1  # this read may end another request: count from the next one

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._head_open or self.transport.is_closing():
            return
        self._head_bytes = 0 if self._head_bytes < 0 else self._head_bytes + len(data)
        if self._head_bytes > self._max_head:
            self.logger.warning("Request headers larger than %d bytes refused", self._max_head)
            self.transport.write(_TOO_LARGE)
            self.transport.close()
