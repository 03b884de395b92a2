"""Per-token sliding one-minute windows: init 6, creator_info 20, status 30 (→ 429)."""

from __future__ import annotations

from tests.emulator.flows import TikTok, error_code, make_config, serve, video_body
from tiktimer.platforms.tiktok.emulator import RateLimits


async def test_creator_info_allows_20_per_minute_per_token(tiktok: TikTok) -> None:
    token, other = tiktok.tokens(), tiktok.tokens()
    for _ in range(20):
        assert (await tiktok.creator_info(token)).status_code == 200

    refused = await tiktok.creator_info(token)

    assert refused.status_code == 429
    assert refused.json()["data"] == {}
    assert error_code(refused) == "rate_limit_exceeded"
    assert (await tiktok.creator_info(other)).status_code == 200
    tiktok.emulator.advance_clock(60)
    assert (await tiktok.creator_info(token)).status_code == 200


async def test_the_window_slides(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    for _ in range(10):
        await tiktok.creator_info(token)
    tiktok.emulator.advance_clock(30)
    for _ in range(10):
        await tiktok.creator_info(token)
    assert (await tiktok.creator_info(token)).status_code == 429

    tiktok.emulator.advance_clock(30.5)

    for _ in range(10):
        assert (await tiktok.creator_info(token)).status_code == 200
    assert (await tiktok.creator_info(token)).status_code == 429


async def test_inits_share_six_per_minute(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    inbox_body = {"source_info": video_body()["source_info"]}
    for _ in range(3):
        assert (await tiktok.init_video(token, video_body())).status_code == 200
        response = await tiktok.call("/v2/post/publish/inbox/video/init/", token, inbox_body)
        assert response.status_code == 200, response.text

    refused = await tiktok.init_video(token, video_body())

    assert (refused.status_code, error_code(refused)) == (429, "rate_limit_exceeded")


async def test_init_buckets_can_be_separate() -> None:
    limits = RateLimits(shared_init_bucket=False)
    async with serve(make_config(rate_limits=limits, pending_share_cap=100)) as tiktok:
        token = tiktok.tokens()
        inbox_body = {"source_info": video_body()["source_info"]}
        for _ in range(6):
            assert (await tiktok.init_video(token, video_body())).status_code == 200

        inbox = await tiktok.call("/v2/post/publish/inbox/video/init/", token, inbox_body)

        assert inbox.status_code == 200


async def test_status_allows_30_per_minute(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    publish_id = (await tiktok.init_video(token, video_body())).json()["data"]["publish_id"]
    for _ in range(30):
        assert (await tiktok.status(token, publish_id)).status_code == 200

    assert (await tiktok.status(token, publish_id)).status_code == 429
