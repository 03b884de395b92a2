"""Object keys and backend selection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tiktimer.storage import (
    InvalidKey,
    LocalStorage,
    S3Storage,
    build_storage,
    media_key,
    validate_key,
)

MEDIA_ID = uuid.UUID("0f8e0c1e-9a4b-4c1e-8d6f-2b1a3c4d5e6f")


def test_media_key_shows_owner_and_utc_date() -> None:
    created = datetime(2025, 3, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5)))

    key = media_key(42, MEDIA_ID, created, ".mp4")

    assert key == f"u/42/2025/03/03/{MEDIA_ID}.mp4"
    assert validate_key(key) == key


def test_media_key_without_extension() -> None:
    assert media_key("7", "abc", datetime(2025, 1, 9, tzinfo=UTC), "") == "u/7/2025/01/09/abc"


@pytest.mark.parametrize("ext", ["mp4", ".MP4", ".mp4/../x", ". mp4", ".verylongext"])
def test_media_key_refuses_odd_extensions(ext: str) -> None:
    with pytest.raises(InvalidKey):
        media_key(1, MEDIA_ID, datetime(2025, 1, 1, tzinfo=UTC), ext)


@pytest.mark.parametrize("owner", ["..", "a/b", ""])
def test_media_key_refuses_unsafe_ids(owner: str) -> None:
    with pytest.raises(InvalidKey):
        media_key(owner, MEDIA_ID, datetime(2025, 1, 1, tzinfo=UTC), ".mp4")


def test_media_key_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        media_key(1, MEDIA_ID, datetime(2025, 1, 1), ".mp4")


def test_build_local(tmp_path: Path) -> None:
    storage = build_storage("local", root=tmp_path)

    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path.resolve()


def test_build_s3(tmp_path: Path) -> None:
    storage = build_storage(
        "s3",
        root=tmp_path,
        bucket="media",
        prefix="/tiktimer/",
        endpoint_url="http://127.0.0.1:9",
        region="eu-west-1",
    )

    assert isinstance(storage, S3Storage)
    assert storage.prefix == "tiktimer/"
    assert storage.client.meta.region_name == "eu-west-1"
    storage.client.close()


def test_build_s3_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bucket"):
        build_storage("s3", root=tmp_path)


def test_build_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gcs"):
        build_storage("gcs", root=tmp_path)
