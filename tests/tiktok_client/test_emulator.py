"""The client against the strict TikTok emulator, in process over ``httpx.ASGITransport``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tiktimer.platforms.tiktok.client import (
    TikTokClient,
    code_challenge,
    generate_code_verifier,
    generate_state,
    parse_authorization_callback,
    user_info_fields_for,
)
from tiktimer.platforms.tiktok.emulator import (
    ClientConfig,
    CreatorSettings,
    Emulator,
    EmulatorConfig,
    Fault,
    FaultKind,
    FaultPhase,
    create_emulator_app,
)
from tiktimer.platforms.tiktok.errors import (
    TikTokReauthorizeRequired,
    TikTokReinitRequired,
    TikTokRejected,
    TikTokTokenExpired,
)
from tiktimer.platforms.tiktok.schemas import (
    FileUploadSource,
    PrivacyLevel,
    PublishStatusValue,
    TokenSet,
    VideoPostInfo,
)

API = "https://open.tiktokapis.test"
AUTH_URL = "https://www.tiktok.test/v2/auth/authorize/"
KEY = "awclienttests0001"
SECRET = "client-tests-secret"
REDIRECT_URI = "https://tiktimer.example.com/accounts/tiktok/callback/"
SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")
BLOCK = bytes(range(256)) * 4096  # 1 MiB


@dataclass
class Setup:
    client: TikTokClient
    emulator: Emulator
    http: httpx.AsyncClient  # the "browser"


async def make_setup(**config: Any) -> AsyncIterator[Setup]:
    app = create_emulator_app(
        EmulatorConfig(
            clients=(
                ClientConfig(
                    client_key=KEY,
                    client_secret=SECRET,
                    redirect_uris=(REDIRECT_URI,),
                    audited=True,
                ),
            ),
            creators=(CreatorSettings(username="alice", display_name="Alice"),),
            processing_seconds=1.0,
            **config,
        )
    )
    transport = httpx.ASGITransport(app=app)
    sleeps: list[float] = []

    async def no_sleep(delay: float) -> None:
        sleeps.append(delay)

    client = TikTokClient(
        client_key=KEY,
        client_secret=SECRET,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
        auth_url=AUTH_URL,
        api_base=API,
        transport=transport,
        sleep=no_sleep,
    )
    async with client, httpx.AsyncClient(transport=transport) as browser:
        yield Setup(client, app.state.emulator, browser)
    await app.state.emulator.aclose()


@pytest.fixture
async def tiktok() -> AsyncIterator[Setup]:
    async for setup in make_setup():
        yield setup


async def consent(setup: Setup, *, state: str, verifier: str) -> str:
    """Open the consent page, allow, and return the raw callback URL."""
    url = setup.client.authorization_url(state=state, code_challenge=code_challenge(verifier))
    page = await setup.http.get(url)
    assert page.status_code == 200, page.text  # the emulator accepted every parameter
    form = dict(parse_qsl(urlsplit(url).query)) | {"decision": "allow", "creator": "alice"}
    response = await setup.http.post(AUTH_URL, data=form)
    assert response.status_code == 302, response.text
    location: str = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return location


async def connect(setup: Setup) -> TokenSet:
    state, verifier = generate_state(), generate_code_verifier()
    location = await consent(setup, state=state, verifier=verifier)
    callback = parse_authorization_callback(
        dict(parse_qsl(urlsplit(location).query)), expected_state=state
    )
    return await setup.client.exchange_code(callback.code, code_verifier=verifier)


async def test_connect_refresh_and_user_info(tiktok: Setup) -> None:
    tokens = await connect(tiktok)
    assert tokens.open_id == tiktok.emulator.open_id(KEY, "alice")
    assert set(tokens.scopes) == set(SCOPES)
    assert tokens.expires_in == 7_200
    assert tokens.refresh_expires_in == 15_552_000

    info = await tiktok.client.get_user_info(
        tokens.access_token, fields=user_info_fields_for(tokens.scopes)
    )
    assert info.open_id == tokens.open_id
    assert info.display_name == "Alice"
    assert info.username == "alice"

    refreshed = await tiktok.client.refresh_access_token(tokens.refresh_token)
    assert refreshed.refresh_token != tokens.refresh_token
    assert refreshed.access_token != tokens.access_token
    assert (await tiktok.client.get_user_info(refreshed.access_token)).open_id == tokens.open_id

    # The rotated-out refresh token is dead; presenting it again revokes the whole grant.
    with pytest.raises(TikTokReauthorizeRequired) as caught:
        await tiktok.client.refresh_access_token(tokens.refresh_token)
    assert caught.value.code == "invalid_grant"
    assert caught.value.log_id
    with pytest.raises(TikTokTokenExpired):
        await tiktok.client.get_user_info(refreshed.access_token)


async def test_the_raw_callback_code_is_url_decoded_before_exchange(tiktok: Setup) -> None:
    state, verifier = generate_state(), generate_code_verifier()
    location = await consent(tiktok, state=state, verifier=verifier)
    raw_code = dict(pair.split("=", 1) for pair in urlsplit(location).query.split("&"))["code"]
    assert "%" in raw_code  # the emulator issues codes that need percent-encoding
    tokens = await tiktok.client.exchange_code(raw_code, code_verifier=verifier)
    assert tokens.open_id == tiktok.emulator.open_id(KEY, "alice")


async def test_a_code_is_single_use(tiktok: Setup) -> None:
    state, verifier = generate_state(), generate_code_verifier()
    location = await consent(tiktok, state=state, verifier=verifier)
    callback = parse_authorization_callback(
        dict(parse_qsl(urlsplit(location).query)), expected_state=state
    )
    await tiktok.client.exchange_code(callback.code, code_verifier=verifier)
    with pytest.raises(TikTokReauthorizeRequired):
        await tiktok.client.exchange_code(callback.code, code_verifier=verifier)


async def test_a_wrong_verifier_is_refused(tiktok: Setup) -> None:
    state, verifier = generate_state(), generate_code_verifier()
    location = await consent(tiktok, state=state, verifier=verifier)
    callback = parse_authorization_callback(
        dict(parse_qsl(urlsplit(location).query)), expected_state=state
    )
    with pytest.raises((TikTokRejected, TikTokReauthorizeRequired)):
        await tiktok.client.exchange_code(callback.code, code_verifier=generate_code_verifier())


async def test_oauth_errors_sent_with_http_200_are_still_errors() -> None:
    async for setup in make_setup(oauth_errors_http_200=True):
        with pytest.raises(TikTokReauthorizeRequired) as caught:
            await setup.client.refresh_access_token("rft.not-a-token")
        assert caught.value.http_status == 200
        assert caught.value.code == "invalid_grant"


async def test_revoke(tiktok: Setup) -> None:
    tokens = await connect(tiktok)
    result = await tiktok.client.revoke_access_token(tokens.access_token)
    assert result is not None
    with pytest.raises(TikTokTokenExpired):
        await tiktok.client.get_user_info(tokens.access_token)


# ----------------------------------------------------------------------- upload


def pattern(start: int, end: int) -> bytes:
    # Byte i of the video is BLOCK[i % len(BLOCK)].
    offset = start % len(BLOCK)
    out = bytearray()
    while len(out) < end - start:
        piece = BLOCK[offset:]
        out += piece[: end - start - len(out)]
        offset = 0
    return bytes(out)


async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
    position = start
    while position < end:
        stop = min(end, position + len(BLOCK))
        yield pattern(position, stop)
        position = stop


def sha256_of(size: int) -> str:
    digest = hashlib.sha256()
    for position in range(0, size, len(BLOCK)):
        digest.update(pattern(position, min(size, position + len(BLOCK))))
    return digest.hexdigest()


async def direct_post(setup: Setup, token: str, size: int) -> tuple[str, str]:
    info = await setup.client.query_creator_info(token)
    assert info.allows_privacy(PrivacyLevel.PUBLIC_TO_EVERYONE)
    init = await setup.client.init_video_post(
        token,
        VideoPostInfo(privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE, title="client #test"),
        FileUploadSource.for_size(size),
    )
    assert init.upload_url
    return init.publish_id, init.upload_url


async def test_chunked_upload_then_status_until_published(tiktok: Setup) -> None:
    token = tiktok.emulator.issue_tokens(KEY, "alice")["access_token"]
    size = 64_000_001
    publish_id, upload_url = await direct_post(tiktok, token, size)

    result = await tiktok.client.upload_file(upload_url, size, read_range)
    assert (result.chunk_count, result.chunk_retries, result.resyncs) == (6, 0, 0)

    record = tiktok.emulator.publication(publish_id)
    assert record.media_bytes == size
    assert record.media_sha256 == sha256_of(size)
    assert record.caption == "client #test"

    status = await tiktok.client.fetch_post_status(token, publish_id)
    assert not status.is_published
    tiktok.emulator.advance_clock(5)
    status = await tiktok.client.fetch_post_status(token, publish_id)
    assert status.status == PublishStatusValue.PUBLISH_COMPLETE
    assert status.log_id
    assert all(isinstance(i, int) and i > 2**53 for i in status.post_ids)


async def test_a_5xx_on_a_chunk_is_retried(tiktok: Setup) -> None:
    token = tiktok.emulator.issue_tokens(KEY, "alice")["access_token"]
    size = 70_000_000
    publish_id, upload_url = await direct_post(tiktok, token, size)
    tiktok.emulator.add_fault(
        Fault(endpoint="upload", kind=FaultKind.HTTP_ERROR, status=503, nth=3)
    )
    result = await tiktok.client.upload_file(upload_url, size, read_range)
    assert result.chunk_retries == 1
    assert tiktok.emulator.publication(publish_id).media_sha256 == sha256_of(size)


async def test_a_lost_chunk_response_is_resynchronised(tiktok: Setup) -> None:
    token = tiktok.emulator.issue_tokens(KEY, "alice")["access_token"]
    size = 70_000_000
    publish_id, upload_url = await direct_post(tiktok, token, size)
    # Chunk 2 is stored, then the connection drops before the 206 reaches the client.
    tiktok.emulator.add_fault(
        Fault(endpoint="upload", kind=FaultKind.DROP, nth=2, phase=FaultPhase.AFTER)
    )
    result = await tiktok.client.upload_file(upload_url, size, read_range)
    assert (result.chunk_retries, result.resyncs) == (1, 1)
    assert tiktok.emulator.publication(publish_id).media_sha256 == sha256_of(size)


async def test_an_expired_upload_url_needs_a_new_init(tiktok: Setup) -> None:
    token = tiktok.emulator.issue_tokens(KEY, "alice")["access_token"]
    size = 4_000_000
    _, upload_url = await direct_post(tiktok, token, size)
    tiktok.emulator.advance_clock(3_601)
    with pytest.raises(TikTokReinitRequired) as caught:
        await tiktok.client.upload_file(upload_url, size, read_range)
    assert caught.value.code == "upload_url_expired"
