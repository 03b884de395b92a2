"""Tokens, secrets, codes and upload credentials never reach a log line or an error message."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tiktimer.platforms.tiktok.errors import TikTokError
from tiktimer.platforms.tiktok.schemas import FileUploadSource, PrivacyLevel, VideoPostInfo

from .conftest import CLIENT_SECRET, MakeClient, api_response

CODE = "auth-code-SECRET-0001"
VERIFIER = "verifier-SECRET-" + "v" * 40
ACCESS = "act.ACCESS-SECRET-0002"
REFRESH = "rft.REFRESH-SECRET-0003"
NEW_ACCESS = "act.NEW-ACCESS-SECRET-0004"
NEW_REFRESH = "rft.NEW-REFRESH-SECRET-0005"
UPLOAD_TOKEN = "UPLOAD-TOKEN-SECRET-0006"
UPLOAD_URL = f"https://open-upload.tiktokapis.com/video/?upload_id=1&upload_token={UPLOAD_TOKEN}"
SECRETS = [CLIENT_SECRET, CODE, VERIFIER, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, UPLOAD_TOKEN]


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {text!r}"


def token_body() -> dict[str, object]:
    return {
        "access_token": NEW_ACCESS,
        "refresh_token": NEW_REFRESH,
        "open_id": "open-id",
        "scope": "video.upload",
        "expires_in": 86400,
        "refresh_expires_in": 31536000,
        "token_type": "Bearer",
    }


async def chunk_source(start: int, end: int) -> AsyncIterator[bytes]:
    yield b"\0" * (end - start)


async def test_no_secret_in_logs_or_errors(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[TikTokError] = []
    step = {"n": 0}

    def happy(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/oauth/token/":
            return httpx.Response(200, json=token_body())
        if path == "/v2/oauth/revoke/":
            return httpx.Response(200, json={})
        if path == "/v2/user/info/":
            return api_response({"user": {"open_id": "open-id"}})
        if path == "/v2/post/publish/video/init/":
            return api_response({"publish_id": "v_pub_file~v2-1.1", "upload_url": UPLOAD_URL})
        if path == "/video/":
            step["n"] += 1
            return httpx.Response(500 if step["n"] == 1 else 201)
        raise AssertionError(path)

    client = make_client(happy)
    tokens = await client.exchange_code(CODE, code_verifier=VERIFIER)
    await client.refresh_access_token(REFRESH)
    await client.revoke_access_token(ACCESS)
    await client.get_user_info(ACCESS)
    init = await client.init_video_post(
        ACCESS,
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY),
        FileUploadSource.for_size(1000),
    )
    assert init.upload_url
    await client.upload_file(init.upload_url, 1000, chunk_source)
    texts = [repr(tokens), repr(init), str(tokens.model_dump())]

    # TikTok echoing our secrets back in error text is redacted.
    def echo(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        return httpx.Response(
            400,
            json={"error": "invalid_grant", "error_description": f"bad {body}", "log_id": "L"},
        )

    client = make_client(echo)
    for call in (
        client.exchange_code(CODE, code_verifier=VERIFIER),
        client.refresh_access_token(REFRESH),
        client.revoke_access_token(ACCESS),
    ):
        with pytest.raises(TikTokError) as caught:
            await call
        errors.append(caught.value)

    def echo_bearer(request: httpx.Request) -> httpx.Response:
        return api_response(
            status=401, code="access_token_invalid", message=request.headers["authorization"]
        )

    client = make_client(echo_bearer)
    with pytest.raises(TikTokError) as caught:
        await client.query_creator_info(ACCESS)
    errors.append(caught.value)

    # A malformed token response: pydantic's message would echo the tokens.
    client = make_client(
        lambda request: httpx.Response(200, json={**token_body(), "expires_in": "x"})
    )
    with pytest.raises(TikTokError) as caught:
        await client.refresh_access_token(REFRESH)
    errors.append(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None

    # Network failure and upload failures.
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url.host}")

    client = make_client(down)
    with pytest.raises(TikTokError) as caught:
        await client.exchange_code(CODE, code_verifier=VERIFIER)
    errors.append(caught.value)
    for status in (403, 404, 400):
        client = make_client(lambda request, status=status: httpx.Response(status))
        with pytest.raises(TikTokError) as caught:
            await client.upload_file(UPLOAD_URL, 1000, chunk_source)
        errors.append(caught.value)

    assert len(errors) == 9
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [str(getattr(e, "hint", "")) for e in errors]
    records = caplog.records
    texts += [r.getMessage() for r in records]
    assert_clean(texts)
    # The httpx request log line is kept, with the upload credential masked.
    assert any("upload_token=[redacted]" in r.getMessage() for r in records if r.name == "httpx")
    assert any(r.name.startswith("tiktimer.platforms.tiktok") for r in records)
