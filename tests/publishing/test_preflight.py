"""Pre-flight: every check refuses a scheduled post with its reason, field by field (422),
`POST /api/v1/tiktok/posts/validate` reports the same without saving, and the publisher
checks again against a fresh creator_info right before the init."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.media_factory import MediaSamples
from tests.publishing.conftest import DAILY_CAP
from tests.publishing.helpers import (
    connect_creator,
    create_post,
    drive,
    future,
    stored_media,
    upload,
)
from tiktimer.models import AccountStatus, Post, PostStatus, SocialAccount
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher


async def refused(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> set[tuple[str, str]]:
    """POST /posts/ must answer 422; the (field, code) pairs it lists."""
    payload = {"content": "hello", "scheduled_time": future(), **body}
    response = await client.post("/posts/", json=payload, headers=headers)
    assert response.status_code == 422, response.text
    return {(error["loc"][-1], error["type"]) for error in response.json()["detail"]}


async def validated(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    payload = {"content": "hello", "scheduled_time": future(), **body}
    response = await client.post("/api/v1/tiktok/posts/validate", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def codes(report: dict[str, Any], kind: str = "errors") -> set[tuple[str, str]]:
    return {(issue["field"], issue["code"]) for issue in report[kind]}


@pytest.fixture
async def video(app: FastAPI, alice_id: int) -> str:
    media_id, _ = await stored_media(app, alice_id, 1_000_000)
    return media_id


async def test_content_and_time_only_is_refused_unless_draft(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    """Issue 13: a post that would go out must be publishable as it stands; the original
    API's content and time alone are still accepted as a draft."""
    found = await refused(client, alice, content="No media yet")
    assert found == {("media_ids", "media_required"), ("social_account_id", "account_required")}
    post = await create_post(client, alice, content="No media yet", draft=True)
    validation = post["validation"]
    assert validation["ok"] is False
    assert validation["needs_media"] is True
    assert validation["needs_account"] is True
    assert {e["code"] for e in validation["errors"]} == {"media_required", "account_required"}

    # One saved as scheduled before the rule still fails with the reason when it is due.
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post).where(Post.id == post["id"]).values(status=PostStatus.scheduled)
        )
    driven = await drive(app, publisher, emulator, post["id"])

    assert driven.error is not None
    assert driven.error.kind is ErrorKind.fail
    assert "Attach a video" in driven.error.message
    assert emulator.count_publications() == 0


async def test_every_reason_is_listed_field_by_field(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    found = await refused(
        client,
        alice,
        social_account_id=account,
        media_id=video,
        content="😀" * 1101,  # 2202 UTF-16 units
        privacy_level="PUBLIC_TO_EVERYONE",  # a private account is not offered public
        allow_duet=True,  # a private account cannot allow duets
        allow_stitch=True,
    )
    assert found == {
        ("content", "text_too_long"),
        ("privacy_level", "privacy_level_not_offered"),
        ("allow_duet", "duet_disabled_by_creator"),
        ("allow_stitch", "stitch_disabled_by_creator"),
    }


async def test_caption_length_counts_utf16_units(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    at_limit = await create_post(
        client, alice, social_account_id=account, media_id=video, content="😀" * 1100
    )
    assert at_limit["validation"]["ok"] is True
    ascii_limit = await validated(
        client, alice, social_account_id=account, media_id=video, content="a" * 2200
    )
    assert ascii_limit["ok"] is True


async def test_creator_settings(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    alice_id: int,
    emulator: Emulator,
    samples: MediaSamples,
) -> None:
    account = await connect_creator(
        client, alice, emulator, "strict_one", comment_disabled=True, max_video_post_duration_sec=1
    )
    clip = await upload(client, alice, samples["long_clip"])  # 2 s
    found = await refused(
        client, alice, social_account_id=account, media_id=clip["id"], allow_comment=True
    )
    assert found == {
        ("allow_comment", "comment_disabled_by_creator"),
        ("media_ids", "duration_too_long"),
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"posts_today": 15}, "spam_risk_too_many_posts"),
        ({"banned": True}, "spam_risk_user_banned_from_posting"),
    ],
)
async def test_creator_info_refusals_are_reported(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    account: int,
    video: str,
    emulator: Emulator,
    change: dict[str, Any],
    code: str,
) -> None:
    emulator.update_creator("creator_one", **change)
    found = await refused(client, alice, social_account_id=account, media_id=video)
    assert found == {("social_account_id", code)}


async def test_media_verdict(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, samples: MediaSamples
) -> None:
    slow = await upload(client, alice, samples["clip_15fps"])
    found = await refused(client, alice, social_account_id=account, media_id=slow["id"])
    assert found == {("media_ids", "media_rejected")}


async def test_branded_content_cannot_be_private(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    found = await refused(
        client,
        alice,
        social_account_id=account,
        media_id=video,
        brand_content_toggle=True,
        privacy_level="SELF_ONLY",
    )
    assert found == {("privacy_level", "branded_content_private")}


async def test_photo_rules(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    alice_id: int,
    account: int,
    samples: MediaSamples,
) -> None:
    png = await upload(client, alice, samples["png"])
    jpeg = await upload(client, alice, samples["jpeg"])
    found = await refused(
        client,
        alice,
        social_account_id=account,
        media_type="photo",
        media_ids=[png["id"], jpeg["id"]],
        title="t" * 91,
        content="d" * 4001,
        photo_cover_index=2,
        allow_duet=True,  # no duets for photos: ignored, not an error
    )
    assert found == {
        ("title", "text_too_long"),
        ("content", "text_too_long"),
        ("media_ids", "photo_format"),
        ("media_ids", "media_rejected"),
        ("photo_cover_index", "photo_cover_index_out_of_range"),
    }
    many = [(await stored_media(app, alice_id, 1000, kind="image"))[0] for _ in range(36)]
    too_many = await client.post(
        "/posts/",
        json={"content": "x", "scheduled_time": future(), "media_type": "photo", "media_ids": many},
        headers=alice,
    )
    assert too_many.status_code == 422
    video_of_photos = await refused(
        client, alice, social_account_id=account, media_id=jpeg["id"], media_type="video"
    )
    assert ("media_type", "media_type_mismatch") in video_of_photos


async def test_granted_scopes(
    client: httpx.AsyncClient, alice: dict[str, str], emulator: Emulator, video: str
) -> None:
    drafts_only = await connect_creator(
        client, alice, emulator, "drafts_only", granted_scopes="user.info.basic,video.upload"
    )
    found = await refused(client, alice, social_account_id=drafts_only, media_id=video)
    assert found == {("post_mode", "scope_missing")}
    inbox = await create_post(
        client, alice, social_account_id=drafts_only, media_id=video, post_mode="inbox"
    )
    assert inbox["validation"]["ok"] is True


async def test_account_status(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(SocialAccount)
            .where(SocialAccount.id == account)
            .values(status=AccountStatus.reauth_required, status_reason="TikTok refused")
        )
    found = await refused(client, alice, social_account_id=account, media_id=video)
    assert found == {("social_account_id", "account_unusable")}


async def test_daily_budget(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    # Posts that will go out need their video (issue 13); each its own caption.
    for hours in range(1, DAILY_CAP + 1):
        created = await create_post(
            client,
            alice,
            social_account_id=account,
            media_id=video,
            content=f"post {hours}",
            scheduled_time=future(hours),
        )
    # A paused post goes out once resumed: it still takes its place in the 24 hours.
    paused = await client.post(f"/posts/{created['id']}/pause", headers=alice)
    assert paused.status_code == 200, paused.text
    found = await refused(
        client,
        alice,
        social_account_id=account,
        media_id=video,
        scheduled_time=future(DAILY_CAP + 1),
    )
    assert ("scheduled_time", "daily_budget_exceeded") in found
    next_day = await create_post(
        client, alice, social_account_id=account, media_id=video, scheduled_time=future(30)
    )
    assert not any(e["code"].startswith("daily") for e in next_day["validation"]["errors"])
    drafts = await create_post(
        client,
        alice,
        social_account_id=account,
        media_id=video,
        content="to the inbox",
        post_mode="inbox",
        scheduled_time=future(DAILY_CAP + 1),
    )  # inbox drafts have their own cap
    assert not any(e["code"].startswith("daily") for e in drafts["validation"]["errors"])


async def test_drafts_are_saved_with_their_report_and_checked_when_scheduled(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    draft = await create_post(
        client,
        alice,
        social_account_id=account,
        media_id=video,
        privacy_level="PUBLIC_TO_EVERYONE",
        draft=True,
    )
    assert draft["status"] == "draft"
    assert codes(draft["validation"]) == {("privacy_level", "privacy_level_not_offered")}
    scheduling = await client.patch(f"/posts/{draft['id']}", json={"draft": False}, headers=alice)
    assert scheduling.status_code == 422
    fixed = await client.patch(
        f"/posts/{draft['id']}",
        json={"draft": False, "privacy_level": "SELF_ONLY"},
        headers=alice,
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["validation"]["ok"] is True


async def test_validate_runs_the_same_checks_and_saves_nothing(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    report = await validated(
        client,
        alice,
        social_account_id=account,
        media_id=video,
        privacy_level="PUBLIC_TO_EVERYONE",
        content="😀" * 1101,
    )
    assert report["ok"] is False
    assert codes(report) == {
        ("privacy_level", "privacy_level_not_offered"),
        ("content", "text_too_long"),
    }
    good = await validated(client, alice, social_account_id=account, media_id=video)
    assert good == {**good, "ok": True, "errors": [], "needs_media": False}
    bare = await validated(client, alice)
    assert bare["needs_media"] is True
    assert bare["needs_account"] is True
    past = await validated(client, alice, scheduled_time="2020-01-01T00:00:00Z")
    assert ("scheduled_time", "in_past") in codes(past)
    unknown = await client.post(
        "/api/v1/tiktok/posts/validate",
        json={"content": "x", "scheduled_time": future(), "media_id": "nope"},
        headers=alice,
    )
    assert unknown.status_code == 422
    async with app.state.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 0


async def test_publisher_checks_again_with_fresh_creator_info(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    video: str,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    post = await create_post(
        client, alice, social_account_id=account, media_id=video, allow_comment=True
    )
    assert post["validation"]["ok"] is True
    emulator.update_creator("creator_one", comment_disabled=True)  # changed since

    driven = await drive(app, publisher, emulator, post["id"])

    assert driven.error is not None
    assert driven.error.kind is ErrorKind.fail
    assert driven.error.code == "comment_disabled_by_creator"
    assert "turned off comments" in driven.error.message
    assert emulator.count_publications() == 0
    assert emulator.count_requests(endpoint="creator_info") >= 1
