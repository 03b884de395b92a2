"""Where media bytes live: a `Storage` protocol with local-disk and S3 backends.

Build one per process with `build_storage` from settings values and pass it inward.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from tiktimer.storage.base import (
    READ_CHUNK_SIZE,
    InvalidKey,
    InvalidRange,
    ObjectNotFound,
    Storage,
    StorageError,
    media_key,
    validate_key,
)
from tiktimer.storage.local import LocalStorage
from tiktimer.storage.s3 import S3Storage


class StorageBackend(StrEnum):
    local = "local"
    s3 = "s3"


def build_storage(
    backend: StorageBackend | str,
    *,
    root: Path,
    bucket: str | None = None,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
) -> Storage:
    """Create the configured backend; `root` is used by `local`, the rest by `s3`."""
    match StorageBackend(backend):
        case StorageBackend.local:
            return LocalStorage(root)
        case StorageBackend.s3:
            if not bucket:
                raise ValueError("the s3 storage backend needs a bucket")
            return S3Storage(bucket, prefix=prefix, endpoint_url=endpoint_url, region=region)


__all__ = [
    "READ_CHUNK_SIZE",
    "InvalidKey",
    "InvalidRange",
    "LocalStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageBackend",
    "StorageError",
    "build_storage",
    "media_key",
    "validate_key",
]
