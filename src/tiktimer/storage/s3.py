"""Objects in an S3 (or S3-compatible: MinIO, R2, Garage, …) bucket under a key prefix.

boto3 is synchronous, so every call runs in a worker thread. Large objects go up as a
multipart upload of `part_size` parts, completed only once every part is in and aborted
on any failure or cancellation, so a half-written object is never visible. (Pair the
bucket with an "abort incomplete multipart uploads" lifecycle rule for the rare abort
that itself fails.) Credentials come from boto3's default chain: `AWS_ACCESS_KEY_ID` /
`AWS_SECRET_ACCESS_KEY` in the environment, a shared profile, or an instance role.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import anyio
import boto3
from anyio import to_thread
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tiktimer.storage.base import (
    READ_CHUNK_SIZE,
    InvalidRange,
    ObjectNotFound,
    StorageError,
    check_range,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: Multipart part size; S3 requires at least 5 MiB for every part but the last.
PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_T = TypeVar("_T")


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        part_size: int = PART_SIZE,
        read_chunk_size: int = READ_CHUNK_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3 minimum)")
        prefix = prefix.strip("/")
        self.bucket = bucket
        self.prefix = f"{validate_key(prefix)}/" if prefix else ""
        self.part_size = part_size
        self._read_chunk_size = read_chunk_size
        config = Config(
            # Path-style URLs work with every S3-compatible server behind a custom endpoint.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard"},
            # Newer botocore adds CRC checksums by default, which several S3-compatible
            # servers reject; send them only where the API requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client: S3Client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def local_path(self, key: str) -> Path | None:
        validate_key(key)
        return None

    async def put_file(self, key: str, path: Path) -> int:
        size = await self.put_stream(key, self._read_parts(path))
        await to_thread.run_sync(path.unlink)
        return size

    async def _read_parts(self, path: Path) -> AsyncIterator[bytes]:
        f: BinaryIO = await to_thread.run_sync(path.open, "rb")
        try:
            while piece := await to_thread.run_sync(f.read, self.part_size):
                yield piece
        finally:
            f.close()

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        name = self._name(key)
        buffer = bytearray()  # at most one part plus one incoming chunk
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []
        size = 0
        try:
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = await self.create_multipart(name)
                    part = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    parts.append(await self.upload_part(name, upload_id, len(parts) + 1, part))
            if upload_id is None:
                await self.call(
                    self.client.put_object, Bucket=self.bucket, Key=name, Body=bytes(buffer)
                )
                return size
            if buffer:
                parts.append(await self.upload_part(name, upload_id, len(parts) + 1, buffer))
            await self.call(
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            if upload_id is not None:
                with anyio.CancelScope(shield=True):
                    await self.abort_multipart(name, upload_id)
            raise
        return size

    async def create_multipart(self, name: str) -> str:
        response = await self.call(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=name
        )
        return response["UploadId"]

    async def upload_part(
        self, name: str, upload_id: str, number: int, body: bytes | bytearray
    ) -> CompletedPartTypeDef:
        response = await self.call(
            self.client.upload_part,
            Bucket=self.bucket,
            Key=name,
            UploadId=upload_id,
            PartNumber=number,
            Body=bytes(body),
        )
        return {"ETag": response["ETag"], "PartNumber": number}

    async def abort_multipart(self, name: str, upload_id: str) -> None:
        try:
            await self.call(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
            )
        except StorageError:
            pass  # the original error matters more; a lifecycle rule reaps the leftovers

    async def open_range(self, key: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        name = self._name(key)
        if start == end:  # S3 cannot express an empty range; check bounds and existence
            check_range(start, end, await self.size(key))
            return
        check_range(start, end, end)  # negative or inverted ranges
        response = await self.call(
            self.client.get_object, Bucket=self.bucket, Key=name, Range=f"bytes={start}-{end - 1}"
        )
        body = response["Body"]
        try:
            content_range = response.get("ContentRange")
            if not content_range:
                raise StorageError("the S3 server ignored the Range header")
            check_range(start, end, int(content_range.rpartition("/")[2]))
            remaining = end - start
            while remaining > 0:
                piece = await self.call(body.read, amt=min(remaining, self._read_chunk_size))
                if not piece:
                    raise StorageError(f"object {key!r} ended before the requested range")
                remaining -= len(piece)
                yield piece
        finally:
            body.close()

    async def size(self, key: str) -> int:
        response = await self.call(self.client.head_object, Bucket=self.bucket, Key=self._name(key))
        return response["ContentLength"]

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except ObjectNotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        # S3 deletes are idempotent: a missing key is a success.
        await self.call(self.client.delete_object, Bucket=self.bucket, Key=self._name(key))

    async def aclose(self) -> None:
        await to_thread.run_sync(self.client.close)

    async def call(self, method: Callable[..., _T], **kwargs: Any) -> _T:
        """Run one blocking boto3 call in a thread, translating its errors."""
        try:
            return await to_thread.run_sync(functools.partial(method, **kwargs))
        except ClientError as exc:
            key = str(kwargs.get("Key", "")).removeprefix(self.prefix)
            raise _translate(exc, key) from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 request failed: {exc}") from exc


def _translate(exc: ClientError, key: str) -> StorageError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in _NOT_FOUND_CODES:
        return ObjectNotFound(key)
    if code == "InvalidRange":
        return InvalidRange(f"byte range outside the object {key!r}")
    return StorageError(f"S3 {exc.operation_name} failed: {code or exc}")
