"""A raw HTTP/1.1 client connection (h11 over a socket): reuse and stalls are visible."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def closes(self) -> bool:
        return "close" in self.headers.get("connection", "").lower()


class Wire:
    """One keep-alive connection; `send` one request, read its whole answer."""

    def __init__(self, base: str, timeout: float = 10) -> None:
        parts = urlsplit(base)
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024 * 1024)

    def close(self) -> None:
        self.sock.close()

    def send(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        fields = [("Host", self.host), ("Content-Length", str(len(body)))]
        fields += list((headers or {}).items())
        self.sock.sendall(self.conn.send(h11.Request(method=method, target=target, headers=fields)))
        if body:
            self.sock.sendall(self.conn.send(h11.Data(data=body)))
        self.sock.sendall(self.conn.send(h11.EndOfMessage()))
        return self.read()

    def read(self) -> Answer:
        status, headers, body = 0, {}, bytearray()
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return Answer(status, headers, bytes(body))

    def peer_closed(self) -> bool:
        """True once the server has closed its end (reads return EOF)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return True
