"""Every documented error (reference §6.2, §1.8) maps to a typed error with an action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tiktimer.platforms.tiktok.errors import (
    KNOWN_ERROR_CODES,
    TikTokAction,
    TikTokError,
    TikTokLimitReached,
    TikTokNetworkError,
    TikTokRateLimited,
    TikTokReauthorizeRequired,
    TikTokRejected,
    TikTokRetryableError,
    TikTokServerError,
    TikTokTokenExpired,
    error_for_code,
)
from tiktimer.platforms.tiktok.schemas import PrivacyLevel, PullFromUrlSource, VideoPostInfo

from .conftest import LOG_ID, MakeClient, api_response

# (code, documented HTTP status, expected class, expected action) — reference §6.2.
API_CODES = [
    ("access_token_invalid", 401, TikTokTokenExpired, TikTokAction.REFRESH_TOKEN),
    ("scope_not_authorized", 401, TikTokReauthorizeRequired, TikTokAction.REAUTHORIZE),
    ("scope_permission_missed", 400, TikTokReauthorizeRequired, TikTokAction.REAUTHORIZE),
    ("invalid_params", 400, TikTokRejected, TikTokAction.GIVE_UP),
    ("invalid_param", 400, TikTokRejected, TikTokAction.GIVE_UP),
    ("invalid_file_upload", 400, TikTokRejected, TikTokAction.GIVE_UP),
    ("rate_limit_exceeded", 429, TikTokRateLimited, TikTokAction.RETRY),
    ("internal_error", 500, TikTokServerError, TikTokAction.RETRY),
    ("spam_risk_too_many_posts", 403, TikTokLimitReached, TikTokAction.GIVE_UP),
    ("spam_risk_user_banned_from_posting", 403, TikTokRejected, TikTokAction.GIVE_UP),
    ("spam_risk_too_many_pending_share", 403, TikTokLimitReached, TikTokAction.GIVE_UP),
    ("reached_active_user_cap", 403, TikTokLimitReached, TikTokAction.GIVE_UP),
    (
        "unaudited_client_can_only_post_to_private_accounts",
        403,
        TikTokRejected,
        TikTokAction.GIVE_UP,
    ),
    ("url_ownership_unverified", 403, TikTokRejected, TikTokAction.GIVE_UP),
    ("privacy_level_option_mismatch", 403, TikTokRejected, TikTokAction.GIVE_UP),
    ("app_version_check_failed", 400, TikTokRejected, TikTokAction.GIVE_UP),
    ("invalid_publish_id", 400, TikTokRejected, TikTokAction.GIVE_UP),
    (
        "token_not_authorized_for_specified_publish_id",
        400,
        TikTokRejected,
        TikTokAction.GIVE_UP,
    ),
    ("publish_not_cancellable", 400, TikTokRejected, TikTokAction.GIVE_UP),
]
OAUTH_CODES = [
    ("invalid_grant", TikTokReauthorizeRequired, TikTokAction.REAUTHORIZE),
    ("access_denied", TikTokReauthorizeRequired, TikTokAction.REAUTHORIZE),
    ("invalid_client", TikTokRejected, TikTokAction.GIVE_UP),
    ("invalid_request", TikTokRejected, TikTokAction.GIVE_UP),
    ("invalid_scope", TikTokRejected, TikTokAction.GIVE_UP),
    ("unauthorized_client", TikTokRejected, TikTokAction.GIVE_UP),
    ("unsupported_grant_type", TikTokRejected, TikTokAction.GIVE_UP),
    ("unsupported_response_type", TikTokRejected, TikTokAction.GIVE_UP),
]
TOKEN = "act.t"
INFO = VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY)
PULL = PullFromUrlSource(video_url="https://media.example.com/v.mp4")


def test_every_documented_code_is_mapped() -> None:
    assert {c for c, *_ in API_CODES} | {c for c, *_ in OAUTH_CODES} == KNOWN_ERROR_CODES


@pytest.mark.parametrize(("code", "status", "error_type", "action"), API_CODES)
async def test_api_error_codes(
    make_client: MakeClient,
    code: str,
    status: int,
    error_type: type[TikTokError],
    action: TikTokAction,
) -> None:
    client = make_client(lambda request: api_response(status=status, code=code, message="msg"))
    with pytest.raises(error_type) as caught:
        await client.fetch_post_status(TOKEN, "publish-id")
    error = caught.value
    assert type(error) is error_type
    assert error.action is action
    assert error.code == code
    assert error.http_status == status
    assert error.log_id == LOG_ID
    assert error.message == "msg"


@pytest.mark.parametrize(("code", "error_type", "action"), OAUTH_CODES)
@pytest.mark.parametrize("status", [200, 400])
async def test_oauth_error_codes(
    make_client: MakeClient,
    code: str,
    error_type: type[TikTokError],
    action: TikTokAction,
    status: int,
) -> None:
    body = {"error": code, "error_description": "desc", "log_id": LOG_ID}
    client = make_client(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error_type) as caught:
        await client.refresh_access_token("rft.t")
    assert type(caught.value) is error_type
    assert caught.value.action is action
    assert caught.value.log_id == LOG_ID


async def test_rate_limit_uses_retry_after_when_given(make_client: MakeClient) -> None:
    response = api_response(status=429, code="rate_limit_exceeded")
    response.headers["Retry-After"] = "17"
    client = make_client(lambda request: response)
    with pytest.raises(TikTokRateLimited) as caught:
        await client.query_creator_info(TOKEN)
    assert caught.value.retry_after == 17.0
    assert caught.value.maybe_applied is False


async def test_rate_limit_retry_after_as_http_date(make_client: MakeClient) -> None:
    response = api_response(status=429, code="rate_limit_exceeded")
    response.headers["Retry-After"] = format_datetime(
        datetime.now(UTC) + timedelta(seconds=120), usegmt=True
    )
    client = make_client(lambda request: response)
    with pytest.raises(TikTokRateLimited) as caught:
        await client.query_creator_info(TOKEN)
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


async def test_rate_limit_defaults_to_the_one_minute_window(make_client: MakeClient) -> None:
    client = make_client(lambda request: api_response(status=429, code="rate_limit_exceeded"))
    with pytest.raises(TikTokRateLimited) as caught:
        await client.init_video_post(TOKEN, INFO, PULL)
    assert caught.value.retry_after == 60.0
    assert caught.value.maybe_applied is False  # a 429 did nothing


async def test_a_bare_429_is_rate_limited(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(429, text="Too Many Requests"))
    with pytest.raises(TikTokRateLimited):
        await client.get_user_info(TOKEN)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_without_a_body_is_retryable(make_client: MakeClient, status: int) -> None:
    client = make_client(
        lambda request: httpx.Response(
            status, text="<html>bad gateway</html>", headers={"x-tt-logid": "hdr-log"}
        )
    )
    with pytest.raises(TikTokServerError) as caught:
        await client.fetch_post_status(TOKEN, "id")
    assert caught.value.action is TikTokAction.RETRY
    assert caught.value.http_status == status
    assert caught.value.log_id == "hdr-log"
    assert caught.value.maybe_applied is False  # status fetch is a read


async def test_a_5xx_on_an_init_may_have_created_the_task(make_client: MakeClient) -> None:
    client = make_client(lambda request: api_response(status=500, code="internal_error"))
    with pytest.raises(TikTokServerError) as caught:
        await client.init_video_post(TOKEN, INFO, PULL)
    assert caught.value.maybe_applied is True


async def test_an_unknown_code_on_a_5xx_is_still_retryable(make_client: MakeClient) -> None:
    client = make_client(lambda request: api_response(status=503, code="service_busy"))
    with pytest.raises(TikTokServerError) as caught:
        await client.query_creator_info(TOKEN)
    assert caught.value.code == "service_busy"


async def test_an_unknown_code_on_a_4xx_is_rejected(make_client: MakeClient) -> None:
    client = make_client(lambda request: api_response(status=400, code="brand_new_code"))
    with pytest.raises(TikTokRejected) as caught:
        await client.query_creator_info(TOKEN)
    assert caught.value.code == "brand_new_code"


async def test_a_bare_401_means_refresh(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(401))
    with pytest.raises(TikTokTokenExpired):
        await client.query_creator_info(TOKEN)


@pytest.mark.parametrize(
    ("exc", "idempotent_call", "maybe_applied", "code"),
    [
        (httpx.ConnectError("refused"), False, False, "network_error"),
        (httpx.ConnectTimeout("slow"), False, False, "timeout"),
        (httpx.ReadTimeout("slow"), False, True, "timeout"),
        (httpx.RemoteProtocolError("dropped"), False, True, "network_error"),
        (httpx.ReadTimeout("slow"), True, False, "timeout"),
    ],
)
async def test_network_errors_are_retryable(
    make_client: MakeClient,
    exc: httpx.RequestError,
    idempotent_call: bool,
    maybe_applied: bool,
    code: str,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client = make_client(handler)
    call = (
        client.fetch_post_status(TOKEN, "id")
        if idempotent_call
        else client.init_video_post(TOKEN, INFO, PULL)
    )
    with pytest.raises(TikTokNetworkError) as caught:
        await call
    error = caught.value
    assert isinstance(error, TikTokRetryableError)
    assert error.action is TikTokAction.RETRY
    assert error.maybe_applied is maybe_applied
    assert error.code == code
    assert error.__cause__ is exc


async def test_a_timed_out_refresh_may_have_rotated_the_token(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    client = make_client(handler)
    with pytest.raises(TikTokNetworkError) as caught:
        await client.refresh_access_token("rft.t")
    assert caught.value.maybe_applied is True


def test_error_str_carries_code_status_and_log_id() -> None:
    error = error_for_code("invalid_param", "The title is too long", http_status=400, log_id="L1")
    assert str(error) == "The title is too long (code=invalid_param, http_status=400, log_id=L1)"
    assert isinstance(error, TikTokRejected)
    assert "title is too long" in repr(error)


def test_error_for_code_without_anything() -> None:
    error = error_for_code(None, None, http_status=418)
    assert type(error) is TikTokRejected
    assert error.message == "HTTP 418"
