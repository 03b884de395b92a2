"""status/fetch: the publish lifecycle, int64 post ids, inbox drafts, scripted failures."""

from __future__ import annotations

import asyncio
import re

from tests.emulator.flows import (
    UNAUDITED_KEY,
    TikTok,
    error_code,
    make_config,
    serve,
    video_body,
)

INBOX = "/v2/post/publish/inbox/video/init/"


async def test_direct_post_goes_from_upload_to_publish_complete(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    response = await tiktok.init_video(token, video_body(video_size=1_000_000))
    data = response.json()["data"]

    before = (await tiktok.status(token, data["publish_id"])).json()["data"]
    await tiktok.upload(data["upload_url"], 1_000_000, 1_000_000, 1)
    processing = (await tiktok.status(token, data["publish_id"])).json()["data"]
    tiktok.emulator.advance_clock(1.0)
    done = await tiktok.status(token, data["publish_id"])

    assert before == {
        "status": "PROCESSING_UPLOAD",
        "publicaly_available_post_id": [],
        "uploaded_bytes": 0,
    }
    assert processing["status"] == "PROCESSING_UPLOAD"
    assert processing["uploaded_bytes"] == 1_000_000
    assert done.json()["data"]["status"] == "PUBLISH_COMPLETE"
    [post_id] = done.json()["data"]["publicaly_available_post_id"]
    assert isinstance(post_id, int)
    assert 2**53 < post_id < 2**63
    # The id travels as an exact JSON integer, not a float.
    assert re.search(rf"\[{post_id}\]", done.text)


async def test_status_moves_on_in_real_time_too() -> None:
    async with serve(make_config(processing_seconds=0.2)) as tiktok:
        token = tiktok.tokens()
        data = await tiktok.publish_file(token)
        statuses = []
        for _ in range(20):
            statuses.append((await tiktok.status(token, data["publish_id"])).json()["data"])
            if statuses[-1]["status"] == "PUBLISH_COMPLETE":
                break
            await asyncio.sleep(0.05)

        assert statuses[0]["status"] == "PROCESSING_UPLOAD"
        assert statuses[-1]["status"] == "PUBLISH_COMPLETE"


async def test_zero_processing_time_completes_at_the_last_chunk() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        token = tiktok.tokens()
        data = await tiktok.publish_file(token)

        status = (await tiktok.status(token, data["publish_id"])).json()["data"]["status"]

        assert status == "PUBLISH_COMPLETE"
        record = tiktok.emulator.publication(data["publish_id"])
        assert record.completed_at is not None


async def test_private_posts_get_no_public_post_id() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        token = tiktok.tokens()
        data = await tiktok.publish_file(token, privacy="SELF_ONLY")

        body = (await tiktok.status(token, data["publish_id"])).json()["data"]

        assert body["status"] == "PUBLISH_COMPLETE"
        assert body["publicaly_available_post_id"] == []


async def test_public_post_id_appears_after_moderation() -> None:
    async with serve(make_config(processing_seconds=0, moderation_seconds=30)) as tiktok:
        token = tiktok.tokens()
        data = await tiktok.publish_file(token)

        early = (await tiktok.status(token, data["publish_id"])).json()["data"]
        tiktok.emulator.advance_clock(30)
        late = (await tiktok.status(token, data["publish_id"])).json()["data"]

        assert early["status"] == "PUBLISH_COMPLETE"
        assert early["publicaly_available_post_id"] == []
        assert len(late["publicaly_available_post_id"]) == 1


async def test_inbox_upload_stops_at_send_to_user_inbox_until_the_user_posts() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        token = tiktok.tokens()
        body = {"source_info": video_body()["source_info"]}
        data = (await tiktok.call(INBOX, token, body)).json()["data"]
        await tiktok.upload(data["upload_url"], 1_000_000, 1_000_000, 1)

        waiting = (await tiktok.status(token, data["publish_id"])).json()["data"]
        tiktok.emulator.advance_clock(3600)
        still = (await tiktok.status(token, data["publish_id"])).json()["data"]
        tiktok.emulator.simulate_user_post(data["publish_id"])
        posted = (await tiktok.status(token, data["publish_id"])).json()["data"]

        assert waiting["status"] == still["status"] == "SEND_TO_USER_INBOX"
        assert posted["status"] == "PUBLISH_COMPLETE"
        assert len(posted["publicaly_available_post_id"]) == 1


async def test_fail_next_publish_ends_failed_with_only_status_and_reason() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        token = tiktok.tokens()
        tiktok.emulator.fail_next_publish("spam_risk_text")
        failed = await tiktok.publish_file(token, title="buy now")
        fine = await tiktok.publish_file(token, title="a cat")

        failed_status = (await tiktok.status(token, failed["publish_id"])).json()
        fine_status = (await tiktok.status(token, fine["publish_id"])).json()

        assert failed_status["data"] == {"status": "FAILED", "fail_reason": "spam_risk_text"}
        assert failed_status["error"]["code"] == "ok"
        assert fine_status["data"]["status"] == "PUBLISH_COMPLETE"


async def test_unknown_publish_id(tiktok: TikTok) -> None:
    response = await tiktok.status(tiktok.tokens(), "v_pub_file~v2-1.0")

    assert (response.status_code, error_code(response)) == (400, "invalid_publish_id")


async def test_another_users_token_is_not_authorized_for_the_publish_id(tiktok: TikTok) -> None:
    data = (await tiktok.init_video(tiktok.tokens("alice"), video_body())).json()["data"]

    other_user = await tiktok.status(tiktok.tokens("bob"), data["publish_id"])
    other_client = await tiktok.status(
        tiktok.tokens("alice", client_key=UNAUDITED_KEY), data["publish_id"]
    )

    for response in (other_user, other_client):
        assert (response.status_code, error_code(response)) == (
            400,
            "token_not_authorized_for_specified_publish_id",
        )


async def test_status_needs_a_posting_scope(tiktok: TikTok) -> None:
    data = (await tiktok.init_video(tiktok.tokens(), video_body())).json()["data"]
    token = tiktok.tokens(scopes=("user.info.basic",))

    response = await tiktok.status(token, data["publish_id"])

    assert (response.status_code, error_code(response)) == (401, "scope_not_authorized")


async def test_publications_can_be_counted_per_caption(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    await tiktok.publish_file(token, title="first")
    await tiktok.publish_file(token, title="second")
    await tiktok.publish_file(token, title="second")
    tiktok.emulator.advance_clock(1)

    assert tiktok.emulator.count_publications(caption="second") == 2
    assert tiktok.emulator.count_publications(caption="first", status="PUBLISH_COMPLETE") == 1
    assert tiktok.emulator.count_publications(creator="bob") == 0
    [record] = tiktok.emulator.publications(caption="first")
    assert record.creator_username == "alice"
    assert record.media_bytes == 1_000_000
