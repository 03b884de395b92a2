"""S3 specifics: the key prefix and the multipart path of `put_file`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiktimer.storage import S3Storage, StorageError
from tiktimer.storage.s3 import MIN_PART_SIZE, PART_SIZE


async def test_objects_live_under_the_prefix(s3_storage: S3Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"x")

    await s3_storage.put_file("u/1/a.mp4", source)

    listed = s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["media/u/1/a.mp4"]


async def test_large_file_goes_up_as_multipart(s3_storage: S3Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"v" * (PART_SIZE + 10))

    await s3_storage.put_file("u/1/a.mp4", source)

    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="media/u/1/a.mp4")
    assert head["ETag"].strip('"').endswith("-2")  # S3's marker of a 2-part upload
    assert head["ContentLength"] == PART_SIZE + 10


async def test_server_errors_become_storage_errors(s3_storage: S3Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"x")
    s3_storage.bucket = "no-such-bucket"

    with pytest.raises(StorageError, match="NoSuchBucket"):
        await s3_storage.put_file("u/1/a.mp4", source)
    assert source.exists()


def test_parts_below_the_s3_minimum_are_refused() -> None:
    with pytest.raises(ValueError, match="part_size"):
        S3Storage("bucket", part_size=MIN_PART_SIZE - 1)
