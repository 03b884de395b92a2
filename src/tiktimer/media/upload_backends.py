"""Which resumable-upload backend a process uses: S3 multipart beside S3 media, else files."""

from __future__ import annotations

from pathlib import Path

from tiktimer.media.upload_bytes import UploadBytes
from tiktimer.media.upload_bytes_local import LocalUploadBytes
from tiktimer.media.upload_bytes_s3 import S3UploadBytes
from tiktimer.storage import S3Storage, Storage


def upload_bytes_for(storage: Storage, sessions_dir: Path, incoming_dir: Path) -> UploadBytes:
    """The backend that matches the media storage."""
    if isinstance(storage, S3Storage):
        return S3UploadBytes(storage, incoming_dir)
    return LocalUploadBytes(sessions_dir)
