"""Connecting a channel through the emulator's Google OAuth: PKCE, refresh, revoke."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.youtube.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    READONLY,
    REDIRECT_URI,
    UPLOAD,
    Served,
    connect,
    consent,
    make_client,
)
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.client import ConsentRefused, YouTubeClient, parse_callback
from tiktimer.platforms.youtube.errors import YouTubeError


@pytest.fixture
def client(served: Served, clients: list[YouTubeClient]) -> YouTubeClient:
    built = make_client(served)
    clients.append(built)
    return built


async def test_connect_with_pkce_gives_offline_tokens(client: YouTubeClient) -> None:
    tokens = await connect(client)

    assert tokens.access_token.startswith("ya29.")
    assert tokens.refresh_token is not None
    assert set(tokens.scopes) == {UPLOAD, READONLY}
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)


async def test_authorization_url_asks_for_offline_access_and_s256(client: YouTubeClient) -> None:
    url = httpx.URL(client.authorization_url(state="s", code_verifier="v" * 43))

    assert url.params["access_type"] == "offline"
    assert url.params["code_challenge_method"] == "S256"
    assert url.params["scope"] == f"{UPLOAD} {READONLY}"
    assert url.params["prompt"] == "consent"  # a reconnect brings a refresh token too


async def test_a_wrong_verifier_is_invalid_grant(client: YouTubeClient) -> None:
    query, state, _ = await consent(client)

    with pytest.raises(YouTubeError) as caught:
        await client.exchange_code(parse_callback(query, state), "w" * 64)

    assert caught.value.kind is ErrorKind.reauthorize
    assert caught.value.reason == "invalid_grant"


async def test_a_code_is_single_use(client: YouTubeClient) -> None:
    query, state, verifier = await consent(client)
    code = parse_callback(query, state)
    await client.exchange_code(code, verifier)

    with pytest.raises(YouTubeError) as caught:
        await client.exchange_code(code, verifier)
    assert caught.value.kind is ErrorKind.reauthorize


async def test_an_expired_code_is_invalid_grant(client: YouTubeClient, served: Served) -> None:
    query, state, verifier = await consent(client)
    served.clock.advance(seconds=601)

    with pytest.raises(YouTubeError) as caught:
        await client.exchange_code(parse_callback(query, state), verifier)
    assert caught.value.reason == "invalid_grant"


async def test_declined_consent_and_a_foreign_state_are_refused(client: YouTubeClient) -> None:
    query, state, _ = await consent(client, allow=False)
    with pytest.raises(ConsentRefused, match="access_denied"):
        parse_callback(query, state)

    query, _, _ = await consent(client)
    with pytest.raises(ConsentRefused, match="state"):
        parse_callback(query, "another-state")


async def test_refresh_keeps_the_refresh_token(client: YouTubeClient) -> None:
    tokens = await connect(client)
    assert tokens.refresh_token is not None

    renewed = await client.refresh(tokens.refresh_token)
    again = await client.refresh(tokens.refresh_token)

    assert renewed.refresh_token is None  # Google sends none: the stored one stays
    assert renewed.access_token not in (tokens.access_token, again.access_token)


async def test_a_reconnect_brings_a_new_refresh_token(client: YouTubeClient) -> None:
    first = await connect(client)
    second = await connect(client)

    assert first.refresh_token is not None
    assert second.refresh_token is not None
    assert second.refresh_token != first.refresh_token


async def test_refresh_tokens_of_an_app_in_testing_die_after_seven_days(
    serve: Callable[..., Any], clients: list[YouTubeClient]
) -> None:
    served: Served = await serve(refresh_token_seconds=7 * 24 * 3600)
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    served.clock.advance(days=6, hours=23)
    await client.refresh(tokens.refresh_token or "")
    served.clock.advance(hours=1)

    with pytest.raises(YouTubeError) as caught:
        await client.refresh(tokens.refresh_token or "")
    assert caught.value.kind is ErrorKind.reauthorize


async def test_revoke_ends_the_grant(client: YouTubeClient, served: Served) -> None:
    tokens = await connect(client)
    assert tokens.refresh_token is not None

    await client.revoke(tokens.refresh_token)
    await client.revoke(tokens.refresh_token)  # already revoked: still done

    with pytest.raises(YouTubeError) as refreshing:
        await client.refresh(tokens.refresh_token)
    assert refreshing.value.kind is ErrorKind.reauthorize
    assert "reconnect" in refreshing.value.message
    with pytest.raises(YouTubeError) as listing:
        await client.video_state(tokens.access_token, "OtTBM61o6p4")
    assert listing.value.kind is ErrorKind.refresh  # 401: the access token died with it


async def test_an_unknown_refresh_token_is_invalid_grant(client: YouTubeClient) -> None:
    with pytest.raises(YouTubeError) as caught:
        await client.refresh("1//not-a-token")
    assert caught.value.kind is ErrorKind.reauthorize


async def test_a_wrong_client_secret_fails_without_reconnect(
    served: Served, clients: list[YouTubeClient]
) -> None:
    client = make_client(served, client_secret="wrong")
    clients.append(client)
    query, state, verifier = await consent(client)

    with pytest.raises(YouTubeError) as caught:
        await client.exchange_code(parse_callback(query, state), verifier)
    assert caught.value.kind is ErrorKind.fail
    assert caught.value.status == 401


async def test_partial_consent_shows_in_scopes_and_listing_needs_reconnect(
    client: YouTubeClient,
) -> None:
    tokens = await connect(client, granted=(UPLOAD,))
    assert tokens.scopes == (UPLOAD,)

    with pytest.raises(YouTubeError) as caught:
        await client.video_state(tokens.access_token, "OtTBM61o6p4")
    assert caught.value.kind is ErrorKind.reauthorize
    assert caught.value.reason == "insufficientPermissions"


async def _raw_grant(served: Served, **extra: str) -> dict[str, Any]:
    """One consent and code exchange by hand (plain PKCE), with `extra` authorize params."""
    params: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": UPLOAD,
        "code_challenge": "c" * 43,
    } | extra
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{served.url}/o/oauth2/v2/auth/consent",
            data={**params, "login": "alice@example.com", "decision": "allow"},
        )
        code = dict(httpx.URL(answer.headers["location"]).params)["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code_verifier": "c" * 43,  # plain: the method defaults to plain when missing
        }
        response = await http.post(f"{served.url}/token", data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_no_refresh_token_without_offline_access(served: Served) -> None:
    assert "refresh_token" not in await _raw_grant(served)


async def test_a_second_offline_consent_without_prompt_has_no_refresh_token(
    served: Served,
) -> None:
    assert "refresh_token" in await _raw_grant(served, access_type="offline")
    assert "refresh_token" not in await _raw_grant(served, access_type="offline")
    forced = await _raw_grant(served, access_type="offline", prompt="consent")
    assert "refresh_token" in forced


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "https://evil.example.com/callback"}, "redirect_uri_mismatch"),
        ({"client_id": "unknown.apps.googleusercontent.com"}, "invalid_client"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": f"{UPLOAD},{READONLY}"}, "invalid_scope"),
        ({"code_challenge": "short"}, "invalid_request"),
    ],
)
async def test_authorize_shows_an_error_page_instead_of_redirecting(
    served: Served, change: dict[str, str], error: str
) -> None:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": UPLOAD,
        "code_challenge": "c" * 43,
    } | change
    async with httpx.AsyncClient() as http:
        page = await http.get(f"{served.url}/o/oauth2/v2/auth", params=params)

    assert page.status_code == 400
    assert error in page.text
    assert "location" not in page.headers


async def test_token_endpoint_takes_only_form_bodies(served: Served) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{served.url}/token", json={"grant_type": "refresh_token", "refresh_token": "x"}
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
