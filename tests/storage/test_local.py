"""Local-disk specifics: symlink escapes, cross-filesystem moves, the zero-copy path."""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tiktimer.storage import InvalidKey, LocalStorage


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_local_path_is_the_stored_file(local_storage: LocalStorage) -> None:
    await local_storage.put_stream("u/1/2025/01/01/a.mp4", one_chunk(b"video"))

    path = local_storage.local_path("u/1/2025/01/01/a.mp4")

    assert path is not None
    assert path.read_bytes() == b"video"
    assert path.is_relative_to(local_storage.root)


async def test_symlink_out_of_the_root_is_refused(
    local_storage: LocalStorage, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    local_storage.root.mkdir(parents=True)
    (local_storage.root / "u").symlink_to(outside)

    with pytest.raises(InvalidKey):
        await local_storage.size("u/secret")
    with pytest.raises(InvalidKey):
        await local_storage.put_stream("u/new", one_chunk(b"x"))
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


async def test_put_file_across_filesystems_copies_then_removes(
    local_storage: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"from another disk")
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)

    assert await local_storage.put_file("u/1/a.mp4", source) == 17

    assert not source.exists()
    assert (local_storage.root / "u/1/a.mp4").read_bytes() == b"from another disk"
    assert list((local_storage.root / ".tmp").iterdir()) == []
