"""FILE_UPLOAD of every size class of the reference's chunk plan (§5.1), streamed from
storage. The files are sparse, with their offsets written every 10 MB, so the emulator's
hash of what arrived proves every byte went in the right place; the emulator checks the
plan at init and each chunk's range and length."""

from __future__ import annotations

import resource
import time

import httpx
import pytest
from fastapi import FastAPI

from tests.publishing.helpers import create_post, drive, stored_media, upload_puts
from tiktimer.platforms.tiktok.chunks import plan_chunks
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher

MB = 1_000_000


async def publish_sparse(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    alice_id: int,
    account: int,
    emulator: Emulator,
    publisher: TikTokPublisher,
    size: int,
) -> None:
    media_id, sha256 = await stored_media(app, alice_id, size)
    post = await create_post(client, alice, social_account_id=account, media_id=media_id)
    assert post["validation"]["ok"] is True, post["validation"]

    driven = await drive(app, publisher, emulator, post["id"])

    assert driven.error is None, driven.error
    assert driven.post.status == "published"
    [record] = emulator.publications()
    assert record.status == "PUBLISH_COMPLETE"
    assert record.media_bytes == size
    assert record.media_sha256 == sha256
    plan = plan_chunks(size)
    puts = upload_puts(emulator)
    assert puts == [206] * (plan.total_chunk_count - 1) + [201]


@pytest.mark.parametrize(
    ("size", "chunks"),
    [
        (4 * 1024 * 1024, 1),  # "4 MB", TikTok's own whole-upload example
        (64 * MB, 1),  # the largest single chunk
        (64 * MB + 1, 6),  # one byte more: 10 MB chunks, the last absorbs the rest
        (130 * MB, 13),
    ],
)
async def test_chunk_plan(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    alice_id: int,
    account: int,
    emulator: Emulator,
    publisher: TikTokPublisher,
    size: int,
    chunks: int,
) -> None:
    assert plan_chunks(size).total_chunk_count == chunks
    await publish_sparse(client, app, alice, alice_id, account, emulator, publisher, size)


@pytest.mark.slow
async def test_1_2_gb_streams_without_holding_the_file(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    alice_id: int,
    account: int,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    size = 1_200 * MB
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.monotonic()
    await publish_sparse(client, app, alice, alice_id, account, emulator, publisher, size)
    elapsed = time.monotonic() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 200, f"peak memory grew by {grown_mib:.0f} MiB: the file was buffered"
    assert elapsed < 60
