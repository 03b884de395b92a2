"""Resumable-upload bytes in S3: a multipart upload, with what is short of a part parked aside.

tus lets a client send chunks of any size; S3 takes parts of at least 5 MiB (all but the
last). A request cuts the bytes into parts of the storage's part size (8 MiB) as they
arrive and sends each at once; what is left at its end, less than a part, is stored as the
upload's *tail* object, which the next request, on whichever machine, reads back and sends
in front of its own bytes (tusd does the same). So any chunk size works, and chunks of at
least the part size never carry a tail forward. `assemble` sends the tail as the last part
and completes the multipart upload; `received` downloads that object to probe and hash it.

Keys live under `<prefix>.uploads/<upload id>/`, names no media key can take. Memory per
request stays at one part plus one network chunk, whatever the upload's size.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from anyio import to_thread

from tiktimer.media.spool import Spool
from tiktimer.media.upload_bytes import ChunkWriter, KnownUpload, State
from tiktimer.storage import READ_CHUNK_SIZE, S3Storage, StorageError

_ASSEMBLED = "bytes"
_AREA = ".uploads/"


class S3UploadBytes:
    def __init__(self, storage: S3Storage, temp_dir: Path) -> None:
        self.storage = storage
        self.temp_dir = temp_dir

    def key(self, upload_id: str, name: str) -> str:
        return f"{self.storage.prefix}{_AREA}{upload_id}/{name}"

    async def create(self, upload_id: str) -> State:
        return {"upload": None, "parts": [], "tail": None, "object": None}

    async def writer(
        self, upload_id: str, state: State, offset: int, hasher: hashlib._Hash | None
    ) -> ChunkWriter:
        writer = _S3Writer(self, upload_id, state)
        if state["tail"]:
            writer.buffer += await self.get(state["tail"])
        return writer

    async def assemble(self, upload_id: str, state: State) -> State:
        if state["object"]:
            return state
        name = self.key(upload_id, _ASSEMBLED)
        if state["upload"]:
            parts = list(state["parts"])
            if state["tail"]:
                body = await self.get(state["tail"])
                number = len(parts) + 1
                parts.append([number, await self.send_part(name, state["upload"], number, body)])
            await self.storage.call(
                self.storage.client.complete_multipart_upload,
                Bucket=self.storage.bucket,
                Key=name,
                UploadId=state["upload"],
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
            )
        elif state["tail"]:
            name = state["tail"]  # less than a part in all: the tail is the whole file
        else:
            await self.put(name, b"")
        return {"upload": None, "parts": [], "tail": None, "object": name}

    @asynccontextmanager
    async def received(
        self, upload_id: str, state: State, size: int, hasher: hashlib._Hash | None
    ) -> AsyncIterator[tuple[Path, str]]:
        spool = Spool(self.temp_dir / f"{uuid.uuid4().hex}.part", hasher=hashlib.sha256())
        try:
            async for piece in self._read(state["object"]):
                await spool.write(piece)
            await spool.close()
            if spool.size != size:
                raise StorageError(f"upload {upload_id} has {spool.size} bytes, not {size}")
            assert spool.hasher is not None
            yield spool.path, spool.hasher.hexdigest()
        finally:
            await spool.abort()
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(lambda: spool.path.unlink(missing_ok=True))

    async def settle(self, upload_id: str, old: State, new: State) -> None:
        for name in _objects(old) - _objects(new):
            await self.delete(name)

    async def discard(self, upload_id: str, state: State) -> None:
        if state["upload"]:
            await self.storage.abort_multipart(self.key(upload_id, _ASSEMBLED), state["upload"])
        for name in _objects(state) | {self.key(upload_id, _ASSEMBLED)}:
            await self.delete(name)

    async def sweep(self, cutoff: datetime, known: KnownUpload) -> int:
        """Objects and multipart uploads of uploads that have no row any more."""
        area = f"{self.storage.prefix}{_AREA}"
        client, bucket = self.storage.client, self.storage.bucket
        listed = await self.storage.call(client.list_objects_v2, Bucket=bucket, Prefix=area)
        pending = await self.storage.call(client.list_multipart_uploads, Bucket=bucket, Prefix=area)
        removed = 0
        for item in listed.get("Contents", []):
            if item["LastModified"] < cutoff and not await known(_upload_of(item["Key"], area)):
                await self.delete(item["Key"])
                removed += 1
        for upload in pending.get("Uploads", []):
            if upload["Initiated"] < cutoff and not await known(_upload_of(upload["Key"], area)):
                await self.storage.abort_multipart(upload["Key"], upload["UploadId"])
                removed += 1
        return removed

    async def get(self, name: str) -> bytes:
        chunks = [piece async for piece in self._read(name)]
        return b"".join(chunks)

    async def put(self, name: str, body: bytes) -> None:
        storage = self.storage
        await storage.call(storage.client.put_object, Bucket=storage.bucket, Key=name, Body=body)

    async def delete(self, name: str) -> None:
        storage = self.storage
        with contextlib.suppress(StorageError):  # a leftover only costs bytes; sweep retries
            await storage.call(storage.client.delete_object, Bucket=storage.bucket, Key=name)

    async def send_part(self, name: str, upload: str, number: int, body: bytes) -> str:
        part = await self.storage.upload_part(name, upload, number, body)
        return part["ETag"]

    async def _read(self, name: str) -> AsyncIterator[bytes]:
        storage = self.storage
        response = await storage.call(storage.client.get_object, Bucket=storage.bucket, Key=name)
        body = response["Body"]
        try:
            while piece := await storage.call(body.read, amt=READ_CHUNK_SIZE):
                yield piece
        finally:
            body.close()


class _S3Writer:
    """Cuts the request's bytes (after the old tail) into parts; parks the rest as a new tail."""

    hasher: hashlib._Hash | None = None  # `received` hashes while downloading

    def __init__(self, owner: S3UploadBytes, upload_id: str, state: State) -> None:
        self.size = 0
        self.buffer = bytearray()
        self._owner = owner
        self._upload_id = upload_id
        self._original = state
        self._state: dict[str, Any] = {**state, "parts": list(state["parts"])}
        self._created: str | None = None  # a multipart upload this request started
        self._new_tail: str | None = None

    async def write(self, data: bytes) -> None:
        self.buffer += data
        self.size += len(data)
        part_size = self._owner.storage.part_size
        while len(self.buffer) >= part_size:
            await self._send(bytes(self.buffer[:part_size]))
            del self.buffer[:part_size]

    async def finish(self) -> State:
        if self.size == 0:  # nothing new: the old tail still holds the same bytes
            return self._original
        tail = None
        if self.buffer:
            tail = self._owner.key(self._upload_id, f"tail-{uuid.uuid4().hex}")
            await self._owner.put(tail, bytes(self.buffer))
            self._new_tail = tail
        return {**self._state, "tail": tail}

    async def abort(self) -> None:
        self.buffer = bytearray()
        with anyio.CancelScope(shield=True):
            if self._new_tail is not None:
                await self._owner.delete(self._new_tail)
            if self._created is not None:
                name = self._owner.key(self._upload_id, _ASSEMBLED)
                await self._owner.storage.abort_multipart(name, self._created)

    async def _send(self, body: bytes) -> None:
        name = self._owner.key(self._upload_id, _ASSEMBLED)
        if self._state["upload"] is None:
            self._created = await self._owner.storage.create_multipart(name)
            self._state["upload"] = self._created
        number = len(self._state["parts"]) + 1
        etag = await self._owner.send_part(name, self._state["upload"], number, body)
        self._state["parts"].append([number, etag])


def _objects(state: State) -> set[str]:
    return {name for name in (state["tail"], state["object"]) if name}


def _upload_of(key: str, area: str) -> str:
    return key.removeprefix(area).split("/", 1)[0]
