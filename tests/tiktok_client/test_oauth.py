"""OAuth v2: PKCE, authorize URL, callback, code exchange, refresh, revoke, user info."""

from __future__ import annotations

import hashlib
import re
from base64 import urlsafe_b64encode
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from tiktimer.platforms.tiktok.client import (
    DEFAULT_AUTH_URL,
    TikTokClient,
    code_challenge,
    generate_code_verifier,
    generate_state,
    parse_authorization_callback,
    user_info_fields_for,
)
from tiktimer.platforms.tiktok.errors import (
    TikTokAction,
    TikTokReauthorizeRequired,
    TikTokRejected,
    TikTokTokenExpired,
    TikTokUnexpectedResponse,
)

from .conftest import (
    CLIENT_KEY,
    CLIENT_SECRET,
    LOG_ID,
    NOW,
    REDIRECT_URI,
    MakeClient,
    api_response,
)

TOKEN_BODY = {
    "access_token": "act.example12345Example12345Example",
    "expires_in": 86400,
    "open_id": "afd97af1-b87b-48b9-ac98-410aghda5344",
    "refresh_expires_in": 31536000,
    "refresh_token": "rft.example12345Example12345Example",
    "scope": "user.info.basic,video.list",
    "token_type": "Bearer",
}
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.~_abcdefgh"


def token_response(body: dict[str, object] | None = None, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, json=TOKEN_BODY if body is None else body, headers={"x-tt-logid": LOG_ID}
    )


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True, strict_parsing=True))


# ------------------------------------------------------------------- PKCE


def test_code_verifier_uses_the_documented_charset_and_length() -> None:
    for length in (43, 64, 128):
        verifier = generate_code_verifier(length)
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)
        assert len(verifier) == length
    assert generate_code_verifier() != generate_code_verifier()
    for bad in (42, 129):
        with pytest.raises(ValueError, match="43..128"):
            generate_code_verifier(bad)


def test_code_challenge_is_the_lowercase_hex_sha256_tiktok_documents() -> None:
    expected = hashlib.sha256(VERIFIER.encode()).hexdigest()
    assert code_challenge(VERIFIER) == expected
    assert re.fullmatch(r"[0-9a-f]{64}", code_challenge(VERIFIER))


def test_code_challenge_offers_the_rfc_base64url_form_as_an_escape_hatch() -> None:
    # RFC 7636 appendix B vector.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier, encoding="base64url") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    digest = hashlib.sha256(verifier.encode()).digest()
    assert urlsafe_b64encode(digest).rstrip(b"=").decode() == code_challenge(
        verifier, encoding="base64url"
    )


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + "!", "ü" * 50])
def test_code_challenge_refuses_invalid_verifiers(bad: str) -> None:
    with pytest.raises(ValueError, match="code_verifier"):
        code_challenge(bad)


def test_state_is_random_and_url_safe() -> None:
    state = generate_state()
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", state)
    assert state != generate_state()


# ------------------------------------------------------------ authorize URL


async def test_authorization_url_carries_every_documented_parameter(
    make_client: MakeClient,
) -> None:
    client = make_client(lambda request: httpx.Response(500))
    challenge = code_challenge(VERIFIER)
    url = client.authorization_url(state="st4te", code_challenge=challenge)

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DEFAULT_AUTH_URL
    assert parse_qsl(parts.query, strict_parsing=True) == [
        ("client_key", CLIENT_KEY),
        ("scope", "user.info.basic,video.publish,video.upload"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("state", "st4te"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    assert "client_id" not in parts.query
    assert "scope=user.info.basic,video.publish,video.upload&" in parts.query
    assert "redirect_uri=https%3A%2F%2Ftiktimer.example.com%2Faccounts%2Ftiktok%2Fcallback%2F&" in (
        parts.query
    )


async def test_authorization_url_options(make_client: MakeClient) -> None:
    client = make_client(
        lambda request: httpx.Response(500), auth_url="http://emulator.test/v2/auth/authorize/"
    )
    url = client.authorization_url(
        state="s", code_challenge="c" * 64, scopes=["user.info.basic"], disable_auto_auth=True
    )
    assert url.startswith("http://emulator.test/v2/auth/authorize/?")
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["user.info.basic"]
    assert query["disable_auto_auth"] == ["1"]
    with pytest.raises(ValueError, match="state"):
        client.authorization_url(state="", code_challenge="c")
    with pytest.raises(ValueError, match="scopes"):
        client.authorization_url(state="s", code_challenge="c", scopes=["a,b"])


# ---------------------------------------------------------------- callback


def test_callback_returns_code_and_granted_scopes() -> None:
    callback = parse_authorization_callback(
        {"code": "abc*!~/def", "scopes": "user.info.basic,video.upload", "state": "st"},
        expected_state="st",
    )
    assert callback.code.get_secret_value() == "abc*!~/def"
    assert callback.granted_scopes == ("user.info.basic", "video.upload")
    assert "abc" not in repr(callback)


def test_callback_rejects_a_state_mismatch_before_anything_else() -> None:
    with pytest.raises(TikTokRejected) as caught:
        parse_authorization_callback({"code": "c", "state": "evil"}, expected_state="st")
    assert caught.value.code == "state_mismatch"
    with pytest.raises(TikTokRejected):
        parse_authorization_callback({"code": "c"}, expected_state="st")


def test_callback_denial_means_reauthorize() -> None:
    with pytest.raises(TikTokReauthorizeRequired) as caught:
        parse_authorization_callback(
            {"error": "access_denied", "error_description": "User cancelled", "state": "st"},
            expected_state="st",
        )
    assert caught.value.code == "access_denied"
    assert caught.value.action is TikTokAction.REAUTHORIZE
    assert "User cancelled" in str(caught.value)


# ------------------------------------------------------------ token exchange


async def test_exchange_code_posts_the_documented_form(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return token_response()

    client = make_client(handler)
    tokens = await client.exchange_code("abc%2A%21~%2Fdef", code_verifier=VERIFIER)

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://open.tiktokapis.com/v2/oauth/token/"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["cache-control"] == "no-cache"
    assert "authorization" not in request.headers  # credentials in the body, not Basic
    assert form_of(request) == {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "code": "abc*!~/def",  # URL-decoded once, then form-encoded by the client
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": VERIFIER,
    }

    assert tokens.access_token.get_secret_value() == TOKEN_BODY["access_token"]
    assert tokens.refresh_token.get_secret_value() == TOKEN_BODY["refresh_token"]
    assert tokens.open_id == TOKEN_BODY["open_id"]
    assert tokens.scopes == ("user.info.basic", "video.list")
    assert tokens.missing_scopes(["video.list", "video.publish"]) == ("video.publish",)
    assert tokens.obtained_at == NOW
    assert tokens.access_token_expires_at == NOW + timedelta(seconds=86400)
    assert tokens.refresh_token_expires_at == NOW + timedelta(seconds=31536000)
    assert tokens.log_id == LOG_ID
    assert "act." not in repr(tokens)
    assert "rft." not in repr(tokens)


async def test_an_already_decoded_code_is_sent_unchanged(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return token_response()

    client = make_client(handler)
    await client.exchange_code("abc*!~/def", code_verifier=VERIFIER)
    assert form_of(seen[0])["code"] == "abc*!~/def"


async def test_exchange_code_refuses_a_bad_verifier(make_client: MakeClient) -> None:
    client = make_client(lambda request: token_response())
    with pytest.raises(ValueError, match="code_verifier"):
        await client.exchange_code("code", code_verifier="short")


async def test_refresh_returns_the_rotated_token_and_response_lifetimes(
    make_client: MakeClient,
) -> None:
    seen: list[httpx.Request] = []
    rotated = {
        **TOKEN_BODY,
        "refresh_token": "rft.rotated",
        "expires_in": 7200,
        "refresh_expires_in": 15552000,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return token_response(rotated)

    client = make_client(handler)
    tokens = await client.refresh_access_token("rft.old-refresh-token")

    assert form_of(seen[0]) == {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": "rft.old-refresh-token",
    }
    assert tokens.refresh_token.get_secret_value() == "rft.rotated"
    assert tokens.access_token_expires_at == NOW + timedelta(hours=2)
    assert tokens.refresh_token_expires_at == NOW + timedelta(days=180)


@pytest.mark.parametrize("status", [200, 400, 401])
async def test_oauth_errors_are_read_from_the_body_whatever_the_status(
    make_client: MakeClient, status: int
) -> None:
    body = {
        "error": "invalid_grant",
        "error_description": "Refresh token is invalid or expired.",
        "log_id": LOG_ID,
    }
    client = make_client(lambda request: httpx.Response(status, json=body))
    with pytest.raises(TikTokReauthorizeRequired) as caught:
        await client.refresh_access_token("rft.old")
    error = caught.value
    assert error.code == "invalid_grant"
    assert error.log_id == LOG_ID
    assert error.http_status == status
    assert error.action is TikTokAction.REAUTHORIZE
    assert "Refresh token is invalid or expired." in str(error)


async def test_oauth_errors_in_the_envelope_shape_are_understood(make_client: MakeClient) -> None:
    client = make_client(
        lambda request: api_response(status=401, code="access_token_invalid", message="expired")
    )
    with pytest.raises(TikTokTokenExpired) as caught:
        await client.revoke_access_token("act.token")
    assert caught.value.code == "access_token_invalid"
    assert caught.value.message == "expired"
    assert caught.value.log_id == LOG_ID


async def test_invalid_request_is_a_client_bug_to_give_up_on(make_client: MakeClient) -> None:
    body = {
        "error": "invalid_request",
        "error_description": "Code verifier or code challenge is invalid.",
        "log_id": LOG_ID,
    }
    client = make_client(lambda request: httpx.Response(400, json=body))
    with pytest.raises(TikTokRejected) as caught:
        await client.exchange_code("code", code_verifier=VERIFIER)
    assert caught.value.action is TikTokAction.GIVE_UP
    assert caught.value.hint


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token_type": "Bearer"},
        {"access_token": "", "open_id": "x"},
        {**TOKEN_BODY, "expires_in": "soon"},
        {k: v for k, v in TOKEN_BODY.items() if k != "refresh_token"},
    ],
)
async def test_a_token_response_without_the_documented_fields_fails(
    make_client: MakeClient, body: dict[str, object]
) -> None:
    client = make_client(lambda request: token_response(body))
    with pytest.raises(TikTokUnexpectedResponse) as caught:
        await client.exchange_code("code", code_verifier=VERIFIER)
    assert caught.value.log_id == LOG_ID
    assert "act.example" not in str(caught.value)


async def test_a_non_json_200_is_unexpected(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(200, text="<html>hello</html>"))
    with pytest.raises(TikTokUnexpectedResponse):
        await client.refresh_access_token("rft.x")


# -------------------------------------------------------------------- revoke


@pytest.mark.parametrize("body", [b"", b"{}"])
async def test_revoke_posts_the_access_token_in_a_form(
    make_client: MakeClient, body: bytes
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body, headers={"x-tt-logid": LOG_ID})

    client = make_client(handler)
    result = await client.revoke_access_token("act.token-to-revoke")
    (request,) = seen
    assert str(request.url) == "https://open.tiktokapis.com/v2/oauth/revoke/"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "token": "act.token-to-revoke",
    }
    assert result.log_id == LOG_ID


# ----------------------------------------------------------------- user info


async def test_user_info_requests_fields_with_the_bearer_token(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []
    user = {
        "open_id": "open-1",
        "union_id": "union-1",
        "avatar_url": "https://p16.tiktokcdn.com/a.jpeg",
        "display_name": "Cat Person",
        "username": "catperson",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return api_response({"user": user})

    client = make_client(handler, api_base="https://open.tiktokapis.com/")
    fields = ("open_id", "union_id", "avatar_url", "display_name", "username")
    info = await client.get_user_info("act.user-token", fields=fields)

    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == (
        "https://open.tiktokapis.com/v2/user/info/"
        "?fields=open_id,union_id,avatar_url,display_name,username"
    )
    assert request.headers["authorization"] == "Bearer act.user-token"
    assert info.username == "catperson"
    assert info.display_name == "Cat Person"
    assert info.follower_count is None
    assert info.log_id == LOG_ID


async def test_user_info_defaults_to_basic_fields(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return api_response({"user": {"open_id": "o"}})

    client = make_client(handler)
    await client.get_user_info("act.t")
    assert seen[0].url.query == b"fields=open_id,union_id,avatar_url,display_name"


def test_user_info_fields_follow_granted_scopes() -> None:
    assert user_info_fields_for(["user.info.basic", "video.publish"]) == (
        "open_id",
        "union_id",
        "avatar_url",
        "avatar_url_100",
        "avatar_large_url",
        "display_name",
    )
    assert "username" in user_info_fields_for(["user.info.profile"])
    assert "follower_count" in user_info_fields_for(["user.info.stats"])


async def test_user_info_scope_permission_missed_means_reauthorize(
    make_client: MakeClient,
) -> None:
    client = make_client(
        lambda request: api_response(
            status=400, code="scope_permission_missed", message="needs user.info.profile"
        )
    )
    with pytest.raises(TikTokReauthorizeRequired) as caught:
        await client.get_user_info("act.t", fields=["username"])
    assert caught.value.log_id == LOG_ID


async def test_user_info_without_data_user_is_unexpected(make_client: MakeClient) -> None:
    client = make_client(lambda request: api_response({}))
    with pytest.raises(TikTokUnexpectedResponse):
        await client.get_user_info("act.t")


# ------------------------------------------------------------ construction


def test_constructor_validates_plain_values() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        TikTokClient(client_key="k", client_secret="", redirect_uri=REDIRECT_URI)
    with pytest.raises(TypeError, match="sequence"):
        TikTokClient(
            client_key="k", client_secret="s", redirect_uri=REDIRECT_URI, scopes="video.upload"
        )
    with pytest.raises(ValueError, match="either"):
        TikTokClient(
            client_key="k",
            client_secret="s",
            redirect_uri=REDIRECT_URI,
            http_client=httpx.AsyncClient(),
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )


async def test_an_injected_http_client_is_used_and_left_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return token_response()

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        async with TikTokClient(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT_URI,
            http_client=http,
        ) as client:
            await client.refresh_access_token("rft.x")
            assert CLIENT_SECRET not in repr(client)
        assert not http.is_closed
    assert len(seen) == 1
