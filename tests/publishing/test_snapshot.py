"""The publisher's snapshot: PostgreSQL's single read sees what the three reads see."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.publishing.helpers import create_post, future, stored_media
from tiktimer.kit.time import utc_now
from tiktimer.platforms.tiktok.snapshot import _read_in_three, read_snapshot


async def test_one_read_and_three_reads_agree(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    video, _ = await stored_media(app, alice_id, 2_000_000)
    # Posts that will go out need their video (issue 13), each its own caption.
    for hours in (1, 2):
        await create_post(
            client,
            alice,
            social_account_id=account,
            media_ids=[video],
            content=f"direct {hours}",
            scheduled_time=future(hours),
        )
    await create_post(
        client,
        alice,
        social_account_id=account,
        media_ids=[video],
        content="inbox",
        post_mode="inbox",
        scheduled_time=future(3),
    )
    post = await create_post(
        client, alice, social_account_id=account, media_ids=[video], scheduled_time=future(4)
    )
    at, caps = utc_now(), (15, 5)

    async with app.state.services.engine.connect() as connection:
        read = await read_snapshot(connection, post["id"], at=at, caps=caps)
        three = await _read_in_three(connection, post["id"], at=at, caps=caps)

    assert read == three
    assert read is not None
    assert [m.id for m in read.media] == [video]
    assert read.budget is not None
    assert read.budget.used >= 2  # the other direct posts are counted
