"""Content Posting: creator info, inits, status, cancel — exact requests and parsing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tiktimer.platforms.tiktok.errors import (
    TikTokAction,
    TikTokLimitReached,
    TikTokRejected,
    TikTokUnexpectedResponse,
)
from tiktimer.platforms.tiktok.schemas import (
    FileUploadSource,
    PhotoDraftInfo,
    PhotoPostInfo,
    PhotoSource,
    PrivacyLevel,
    PullFromUrlSource,
    VideoPostInfo,
    utf16_length,
)

from .conftest import LOG_ID, MakeClient, api_response

TOKEN = "act.posting-token"
API = "https://open.tiktokapis.com"


class Recorder:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.response

    @property
    def only(self) -> httpx.Request:
        (request,) = self.requests
        return request

    def json_body(self) -> Any:
        return json.loads(self.only.content)


def assert_json_post(request: httpx.Request, url: str) -> None:
    assert request.method == "POST"
    assert str(request.url) == url
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=UTF-8"


# ------------------------------------------------------------ creator info


async def test_creator_info_query(make_client: MakeClient) -> None:
    data = {
        "creator_avatar_url": "https://p16.tiktokcdn.com/avatar.jpeg",
        "creator_username": "catperson",
        "creator_nickname": "Cat Person",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "comment_disabled": False,
        "duet_disabled": True,
        "stitch_disabled": False,
        "max_video_post_duration_sec": 300,
    }
    recorder = Recorder(api_response(data))
    client = make_client(recorder)
    info = await client.query_creator_info(TOKEN)

    assert_json_post(recorder.only, f"{API}/v2/post/publish/creator_info/query/")
    assert recorder.json_body() == {}
    assert info.creator_nickname == "Cat Person"
    assert info.privacy_level_options == (
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    )
    assert info.allows_privacy(PrivacyLevel.SELF_ONLY)
    assert not info.allows_privacy(PrivacyLevel.FOLLOWER_OF_CREATOR)
    assert info.duet_disabled is True
    assert info.max_video_post_duration_sec == 300
    assert info.log_id == LOG_ID


@pytest.mark.parametrize("code", ["spam_risk_too_many_posts", "reached_active_user_cap"])
async def test_creator_info_caps_arrive_with_http_200_and_are_raised(
    make_client: MakeClient, code: str
) -> None:
    client = make_client(Recorder(api_response(status=200, code=code, message="cap")))
    with pytest.raises(TikTokLimitReached) as caught:
        await client.query_creator_info(TOKEN)
    assert caught.value.code == code
    assert caught.value.http_status == 200
    assert caught.value.action is TikTokAction.GIVE_UP
    assert caught.value.log_id == LOG_ID


async def test_creator_info_ban_is_final(make_client: MakeClient) -> None:
    client = make_client(
        Recorder(api_response(code="spam_risk_user_banned_from_posting", message="banned"))
    )
    with pytest.raises(TikTokRejected) as caught:
        await client.query_creator_info(TOKEN)
    assert not isinstance(caught.value, TikTokLimitReached)


# ------------------------------------------------------------- video inits

POST_INFO = VideoPostInfo(
    title="this will be a funny #cat video on your @tiktok #fyp",
    privacy_level=PrivacyLevel.MUTUAL_FOLLOW_FRIENDS,
    disable_duet=False,
    disable_comment=True,
    disable_stitch=False,
    video_cover_timestamp_ms=1000,
)
UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"


async def test_direct_post_file_upload_init(make_client: MakeClient) -> None:
    recorder = Recorder(
        api_response({"publish_id": "v_pub_file~v2-1.123456789", "upload_url": UPLOAD_URL})
    )
    client = make_client(recorder)
    source = FileUploadSource(video_size=50_000_123, chunk_size=10_000_000, total_chunk_count=5)
    result = await client.init_video_post(TOKEN, POST_INFO, source)

    assert_json_post(recorder.only, f"{API}/v2/post/publish/video/init/")
    assert recorder.json_body() == {
        "post_info": {
            "title": "this will be a funny #cat video on your @tiktok #fyp",
            "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
            "disable_comment": True,
            "disable_duet": False,
            "disable_stitch": False,
            "video_cover_timestamp_ms": 1000,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
            "is_aigc": False,
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 50_000_123,
            "chunk_size": 10_000_000,
            "total_chunk_count": 5,
        },
    }
    assert result.publish_id == "v_pub_file~v2-1.123456789"
    assert result.upload_url == UPLOAD_URL
    assert result.log_id == LOG_ID
    assert "upload_token" not in repr(result)


async def test_direct_post_pull_from_url_init(make_client: MakeClient) -> None:
    recorder = Recorder(api_response({"publish_id": "v_pub_url~v2.123456789"}))
    client = make_client(recorder)
    info = VideoPostInfo(
        privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE,
        title="😀 emoji",
        brand_organic_toggle=True,
        is_aigc=True,
    )
    result = await client.init_video_post(
        TOKEN, info, PullFromUrlSource(video_url="https://media.example.com/v/1.mp4")
    )
    body = recorder.json_body()
    assert body["source_info"] == {
        "source": "PULL_FROM_URL",
        "video_url": "https://media.example.com/v/1.mp4",
    }
    assert body["post_info"]["title"] == "😀 emoji"
    assert "video_cover_timestamp_ms" not in body["post_info"]
    assert body["post_info"]["brand_organic_toggle"] is True
    assert body["post_info"]["is_aigc"] is True
    assert "😀".encode() in recorder.only.content  # UTF-8, not \\u escapes
    assert result.publish_id == "v_pub_url~v2.123456789"
    assert result.upload_url is None


async def test_file_upload_init_without_upload_url_is_unexpected(
    make_client: MakeClient,
) -> None:
    client = make_client(Recorder(api_response({"publish_id": "v_pub_file~v2-1.1"})))
    with pytest.raises(TikTokUnexpectedResponse):
        await client.init_video_post(TOKEN, POST_INFO, FileUploadSource.for_size(4_000_000))


async def test_inbox_video_init_sends_only_source_info(make_client: MakeClient) -> None:
    recorder = Recorder(
        api_response({"publish_id": "v_inbox_file~v2.123456789", "upload_url": UPLOAD_URL})
    )
    client = make_client(recorder)
    result = await client.init_inbox_video(TOKEN, FileUploadSource.for_size(130_000_000))
    assert_json_post(recorder.only, f"{API}/v2/post/publish/inbox/video/init/")
    assert recorder.json_body() == {
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 130_000_000,
            "chunk_size": 10_000_000,
            "total_chunk_count": 13,
        }
    }
    assert result.publish_id == "v_inbox_file~v2.123456789"


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (403, "privacy_level_option_mismatch", TikTokRejected),
        (403, "unaudited_client_can_only_post_to_private_accounts", TikTokRejected),
        (403, "url_ownership_unverified", TikTokRejected),
        (403, "spam_risk_too_many_pending_share", TikTokLimitReached),
        (400, "invalid_params", TikTokRejected),
        (400, "invalid_param", TikTokRejected),
    ],
)
async def test_init_refusals(
    make_client: MakeClient, status: int, code: str, error_type: type[TikTokRejected]
) -> None:
    client = make_client(Recorder(api_response(status=status, code=code, message="no")))
    with pytest.raises(error_type) as caught:
        await client.init_inbox_video(
            TOKEN, PullFromUrlSource(video_url="https://media.example.com/v.mp4")
        )
    assert caught.value.code == code
    assert caught.value.http_status == status
    assert caught.value.hint


# ------------------------------------------------------------- photo inits

PHOTOS = PhotoSource(
    photo_images=(
        "https://verified.example.com/a.webp",
        "https://verified.example.com/b.webp",
    ),
    photo_cover_index=1,
)


async def test_photo_direct_post_init(make_client: MakeClient) -> None:
    recorder = Recorder(api_response({"publish_id": "p_pub_url~v2.123456789"}))
    client = make_client(recorder)
    info = PhotoPostInfo(
        title="funny cat",
        description="this will be a #funny photo on your @tiktok #fyp",
        privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE,
        disable_comment=True,
        auto_add_music=True,
    )
    result = await client.init_photo_post(TOKEN, info, PHOTOS)

    assert_json_post(recorder.only, f"{API}/v2/post/publish/content/init/")
    assert recorder.json_body() == {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {
            "title": "funny cat",
            "description": "this will be a #funny photo on your @tiktok #fyp",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": True,
            "auto_add_music": True,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
        },
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_cover_index": 1,
            "photo_images": [
                "https://verified.example.com/a.webp",
                "https://verified.example.com/b.webp",
            ],
        },
    }
    assert result.publish_id == "p_pub_url~v2.123456789"


async def test_photo_draft_init_sends_media_upload_with_text_only(
    make_client: MakeClient,
) -> None:
    recorder = Recorder(api_response({"publish_id": "p_inbox_url~v2.1"}))
    client = make_client(recorder)
    await client.init_photo_draft(TOKEN, PHOTOS, PhotoDraftInfo(title="draft"))
    body = recorder.json_body()
    assert body["post_mode"] == "MEDIA_UPLOAD"
    assert body["media_type"] == "PHOTO"
    assert body["post_info"] == {"title": "draft"}
    assert body["source_info"]["photo_images"] == list(PHOTOS.photo_images)


async def test_photo_app_version_check_failure_is_final(make_client: MakeClient) -> None:
    client = make_client(Recorder(api_response(status=400, code="app_version_check_failed")))
    with pytest.raises(TikTokRejected) as caught:
        await client.init_photo_draft(TOKEN, PHOTOS)
    assert caught.value.code == "app_version_check_failed"


# ------------------------------------------------------- request validation


def test_titles_are_limited_in_utf16_code_units() -> None:
    assert utf16_length("😀") == 2
    VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="😀" * 1100)
    with pytest.raises(ValidationError, match="2200"):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="😀" * 1100 + "x")
    PhotoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="a" * 90, description="b" * 4000)
    with pytest.raises(ValidationError, match="90"):
        PhotoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="😀" * 45 + "x")
    with pytest.raises(ValidationError, match="4000"):
        PhotoDraftInfo(description="b" * 4001)


def test_branded_content_cannot_be_private() -> None:
    with pytest.raises(ValidationError, match="branded"):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, brand_content_toggle=True)
    with pytest.raises(ValidationError, match="branded"):
        PhotoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, brand_content_toggle=True)
    VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, brand_organic_toggle=True)


def test_post_info_refuses_unknown_fields_and_non_booleans() -> None:
    with pytest.raises(ValidationError):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, disable_duet="yes")
    with pytest.raises(ValidationError):
        VideoPostInfo.model_validate({"privacy_level": "SELF_ONLY", "auto_add_music": True})
    with pytest.raises(ValidationError):
        VideoPostInfo.model_validate({"privacy_level": "EVERYONE"})


@pytest.mark.parametrize(
    "source",
    [
        {"photo_images": []},
        {"photo_images": [f"https://v.example.com/{i}.webp" for i in range(36)]},
        {"photo_images": ["https://v.example.com/a.webp"], "photo_cover_index": 1},
        {"photo_images": ["http://v.example.com/a.webp"]},
    ],
)
def test_photo_sources_follow_the_documented_rules(source: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PhotoSource.model_validate(source)


def test_pull_urls_must_be_https() -> None:
    with pytest.raises(ValidationError, match="https"):
        PullFromUrlSource(video_url="http://media.example.com/v.mp4")


# ------------------------------------------------------------ status/cancel


async def test_status_fetch_keeps_int64_post_ids_exact(make_client: MakeClient) -> None:
    big = 7_412_345_678_901_234_567  # > 2**53: a float would round it
    raw = (
        f'{{"data":{{"status":"PUBLISH_COMPLETE","publicaly_available_post_id":[{big},{big + 1}],'
        f'"uploaded_bytes":50000123}},"error":{{"code":"ok","message":"","log_id":"{LOG_ID}"}}}}'
    )
    recorder = Recorder(httpx.Response(200, content=raw.encode()))
    client = make_client(recorder)
    status = await client.fetch_post_status(TOKEN, "v_pub_file~v2-1.123456789")

    assert_json_post(recorder.only, f"{API}/v2/post/publish/status/fetch/")
    assert recorder.json_body() == {"publish_id": "v_pub_file~v2-1.123456789"}
    assert status.publicaly_available_post_id == (big, big + 1)
    assert status.post_ids[0] == big
    assert status.uploaded_bytes == 50_000_123
    assert status.is_published
    assert not status.is_processing
    assert status.fail_action is None
    assert status.log_id == LOG_ID


async def test_a_sparse_failed_status_parses(make_client: MakeClient) -> None:
    client = make_client(
        Recorder(api_response({"status": "FAILED", "fail_reason": "file_format_check_failed"}))
    )
    status = await client.fetch_post_status(TOKEN, "v_inbox_file~v2.1")
    assert status.is_failed
    assert status.fail_reason == "file_format_check_failed"
    assert status.post_ids == ()
    assert status.uploaded_bytes is None
    assert status.fail_action is TikTokAction.GIVE_UP


@pytest.mark.parametrize(
    ("data", "check"),
    [
        ({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 10_000}, "is_processing"),
        ({"status": "PROCESSING_DOWNLOAD", "downloaded_bytes": 5}, "is_processing"),
        ({"status": "SEND_TO_USER_INBOX", "publicaly_available_post_id": []}, "is_in_inbox"),
        ({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": None}, "is_published"),
    ],
)
async def test_status_values(make_client: MakeClient, data: dict[str, Any], check: str) -> None:
    client = make_client(Recorder(api_response(data)))
    status = await client.fetch_post_status(TOKEN, "id")
    assert getattr(status, check) is True


@pytest.mark.parametrize(
    ("reason", "action"),
    [
        ("internal", TikTokAction.RETRY),
        ("video_pull_failed", TikTokAction.RETRY),
        ("photo_pull_failed", TikTokAction.RETRY),
        ("auth_removed", TikTokAction.REAUTHORIZE),
        ("publish_cancelled", TikTokAction.GIVE_UP),
        ("spam_risk_text", TikTokAction.GIVE_UP),
        ("duration_check_failed", TikTokAction.GIVE_UP),
        ("something_new", TikTokAction.GIVE_UP),
    ],
)
async def test_fail_reasons_say_what_to_do(
    make_client: MakeClient, reason: str, action: TikTokAction
) -> None:
    client = make_client(Recorder(api_response({"status": "FAILED", "fail_reason": reason})))
    status = await client.fetch_post_status(TOKEN, "id")
    assert status.fail_action is action


async def test_a_float_post_id_is_refused_rather_than_rounded(make_client: MakeClient) -> None:
    client = make_client(
        Recorder(
            api_response({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7.4e18]})
        )
    )
    with pytest.raises(TikTokUnexpectedResponse, match="publicaly_available_post_id"):
        await client.fetch_post_status(TOKEN, "id")


async def test_string_post_ids_are_accepted_exactly(make_client: MakeClient) -> None:
    client = make_client(
        Recorder(
            api_response(
                {
                    "status": "PUBLISH_COMPLETE",
                    "publicaly_available_post_id": ["7412345678901234567"],
                }
            )
        )
    )
    status = await client.fetch_post_status(TOKEN, "id")
    assert status.post_ids == (7412345678901234567,)


@pytest.mark.parametrize(
    "code", ["invalid_publish_id", "token_not_authorized_for_specified_publish_id"]
)
async def test_status_fetch_errors(make_client: MakeClient, code: str) -> None:
    client = make_client(Recorder(api_response(status=400, code=code)))
    with pytest.raises(TikTokRejected) as caught:
        await client.fetch_post_status(TOKEN, "id")
    assert caught.value.code == code


async def test_cancel(make_client: MakeClient) -> None:
    recorder = Recorder(
        httpx.Response(200, json={"error": {"code": "ok", "message": "", "log_id": LOG_ID}})
    )
    client = make_client(recorder)
    result = await client.cancel_post(TOKEN, "v_pub_url~v2.1")
    assert_json_post(recorder.only, f"{API}/v2/post/publish/cancel/")
    assert recorder.json_body() == {"publish_id": "v_pub_url~v2.1"}
    assert result.log_id == LOG_ID


async def test_cancel_too_late(make_client: MakeClient) -> None:
    client = make_client(Recorder(api_response(status=400, code="publish_not_cancellable")))
    with pytest.raises(TikTokRejected) as caught:
        await client.cancel_post(TOKEN, "v_pub_url~v2.1")
    assert caught.value.action is TikTokAction.GIVE_UP


async def test_an_envelope_without_error_ok_is_unexpected(make_client: MakeClient) -> None:
    client = make_client(Recorder(httpx.Response(200, json={"data": {"status": "FAILED"}})))
    with pytest.raises(TikTokUnexpectedResponse):
        await client.fetch_post_status(TOKEN, "id")
