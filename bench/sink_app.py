"""The floor for an upload on this stack: a bare streaming ASGI sink on uvicorn.

It does what any receiver of a video must do and nothing more: read the body as it
arrives, hash it with SHA-256 and write it to disk in a worker thread, in blocks of
`SINK_BLOCK_KIB` (default 1 MiB) while the loop receives the next, then fsync (a PATCH is
part of an upload: the sequence is fsynced once, by the empty POST that ends it). No
framework, no multipart parsing, no database, no probe. bench/upload.py runs it beside
TikTimer in the same run and prints our throughput as a ratio of its.

Every request but `GET /` appends its body to `SINK_DIR/<last path segment>` and answers
201 with its name, the body's size and SHA-256; `DELETE /<name>` removes that file; `GET /` is 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from anyio import to_thread

DIRECTORY = Path(os.environ.get("SINK_DIR", "."))
BLOCK = int(os.environ.get("SINK_BLOCK_KIB", "1024")) * 1024


def _append(f: BinaryIO, hasher: Any, batch: list[bytes]) -> None:
    for piece in batch:
        hasher.update(piece)
        f.write(piece)


def _close(f: BinaryIO, fsync: bool) -> None:
    f.flush()
    if fsync:
        os.fsync(f.fileno())
    f.close()


async def _answer(send: Any, status: int, body: dict[str, Any] | None = None) -> None:
    payload = json.dumps(body or {}).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    name = scope["path"].rstrip("/").rpartition("/")[2]
    if not name:
        await _answer(send, 200)
        return
    path = DIRECTORY / name
    if scope["method"] == "DELETE":
        path.unlink(missing_ok=True)
        await _answer(send, 204)
        return
    hasher = hashlib.sha256()
    f = await to_thread.run_sync(path.open, "ab")
    size = await _receive_into(receive, f, hasher)
    if size is None:
        return
    # PATCHes are parts of one upload, fsynced once at its end (as ours: on complete).
    await to_thread.run_sync(_close, f, scope["method"] != "PATCH")
    await _answer(send, 201, {"name": name, "size": size, "sha256": hasher.hexdigest()})


async def _receive_into(receive: Any, f: BinaryIO, hasher: Any) -> int | None:
    """The body's size once all of it is hashed and written; None if the client left.

    One block is written in a worker thread while the loop receives the next."""
    pending: list[bytes] = []
    buffered = size = 0
    inflight: asyncio.Future[None] | None = None
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            if inflight is not None:
                await inflight
            await to_thread.run_sync(f.close)
            return None
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        pending.append(chunk)
        buffered += len(chunk)
        if buffered >= BLOCK or (not more and buffered):
            batch, pending = pending, []
            size, buffered = size + buffered, 0
            if inflight is not None:
                await inflight
            inflight = asyncio.ensure_future(to_thread.run_sync(_append, f, hasher, batch))
    if inflight is not None:
        await inflight
    return size
