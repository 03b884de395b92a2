"""Helpers for the media API tests: uploads as a client sends them, and what the server kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.server import clean_env
from tiktimer.media.thumbnails import is_thumbnail_key, thumbnail_key
from tiktimer.storage import S3Storage

MiB = 1024 * 1024
BOUNDARY = "tiktimer-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    source: Path | bytes,
    *,
    filename: str | None = None,
    field: str = "file",
    path: str = "/api/v1/media",
    data: dict[str, str] | None = None,
) -> httpx.Response:
    content = source.read_bytes() if isinstance(source, Path) else source
    name = filename or (source.name if isinstance(source, Path) else "upload.bin")
    files = {field: (name, content, "application/octet-stream")}
    return await client.post(path, files=files, data=data, headers=headers)


def part_head(name: str = "file", filename: str = "clip.mp4") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()


PART_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


class CountingBody:
    """A multipart request body produced on demand, counting what the server pulled."""

    def __init__(self, file_bytes: int, chunk: int = 64 * 1024) -> None:
        self.file_bytes = file_bytes
        self.chunk = chunk
        self.consumed = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces():
            self.consumed += len(piece)
            yield piece

    def pieces(self) -> Iterable[bytes]:
        yield part_head()
        sent = 0
        while sent < self.file_bytes:
            size = min(self.chunk, self.file_bytes - sent)
            sent += size
            yield b"\0" * size
        yield PART_TAIL


async def call_asgi(
    app: FastAPI,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes],
    *,
    disconnect: bool,
    before_disconnect: Callable[[], Awaitable[None]] | None = None,
) -> list[dict[str, Any]]:
    """Drive the app as a server would: the body in chunks, then a disconnect if asked.

    `http.disconnect` is what uvicorn delivers when the client's connection drops.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("tiktimer.test", 80),
    }
    queue = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    if not disconnect:
        queue.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        if before_disconnect is not None:
            await before_disconnect()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


class Stored:
    """What the server holds: objects in storage, files in the upload area, media rows."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def objects(self) -> list[str]:
        """The media objects (posters aside: none of them is ever left without its media)."""
        everything = self.all_objects()
        media = [key for key in everything if not is_thumbnail_key(key)]
        beside = {thumbnail_key(key) for key in media}
        assert [key for key in everything if is_thumbnail_key(key) and key not in beside] == []
        return media

    def posters(self) -> list[str]:
        return [key for key in self.all_objects() if is_thumbnail_key(key)]

    def all_objects(self) -> list[str]:
        storage = self.app.state.services.storage
        if isinstance(storage, S3Storage):
            client, bucket = storage.client, storage.bucket
            listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
            pending = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            return sorted([o["Key"] for o in listed] + [f"upload:{u['Key']}" for u in pending])
        root: Path = self.app.state.services.settings.storage.media_dir
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    def upload_files(self) -> list[str]:
        root: Path = self.app.state.services.upload_sessions.directory
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    async def rows(self) -> list[dict[str, Any]]:
        async with self.app.state.services.engine.connect() as connection:
            result = await connection.execute(
                text("SELECT id, user_id, status, deleted_at, storage_key FROM media ORDER BY id")
            )
            return [dict(row) for row in result.mappings()]

    async def nothing_kept(self) -> bool:
        return not self.objects() and not self.upload_files() and not await self.rows()


def server_env(app: FastAPI, database: DatabaseUnderTest, **extra: str) -> dict[str, str]:
    """Environment for a `tiktimer` process sharing the test app's database and storage."""
    settings = app.state.services.settings
    env = clean_env(
        DATABASE_URL=database.url,
        SECRET_KEY=settings.auth.secret_key.get_secret_value(),
        TIKTIMER_DATA_DIR=str(settings.storage.data_dir),
        TIKTIMER_LOG_LEVEL="WARNING",
        TIKTIMER_MAX_UPLOAD_MB=str(settings.media.max_upload_mb),
        **extra,
    )
    if settings.storage.backend == "s3":
        env |= {
            "TIKTIMER_STORAGE": "s3",
            "TIKTIMER_S3_BUCKET": settings.storage.s3_bucket,
            "TIKTIMER_S3_PREFIX": settings.storage.s3_prefix,
            "TIKTIMER_S3_ENDPOINT_URL": settings.storage.s3_endpoint_url,
            "TIKTIMER_S3_REGION": settings.storage.s3_region,
        }
    return env
