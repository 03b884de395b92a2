"""Instagram Login through the emulator: authorize, code, long-lived token, refresh."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from tests.instagram.conftest import APP_ID, APP_SECRET, REDIRECT_URI, Instagram, make_config
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.instagram.client import parse_callback
from tiktimer.platforms.instagram.emulator import ExchangeShape
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.schemas import TokenSet

DAY = 86_400.0


async def test_login_gives_a_sixty_day_token_and_the_publishing_user_id(
    instagram: Instagram,
) -> None:
    tokens, user_id = await instagram.login("studio")

    assert tokens.expires_at - tokens.issued_at == timedelta(days=60)
    assert user_id == await instagram.user_id("studio")
    facts = await instagram.client.account(tokens)
    assert (facts.user_id, facts.username, facts.professional) == (user_id, "studio", True)


async def test_the_redirect_carries_state_and_the_trailing_fragment(instagram: Instagram) -> None:
    url = instagram.client.authorization_url(state="xyz")
    form = dict(httpx.URL(url).params) | {"username": "studio", "decision": "allow"}
    location = (await instagram.http.post("/oauth/authorize", data=form)).headers["location"]

    assert location.startswith(REDIRECT_URI + "?")
    assert location.endswith("#_")
    assert "scope=instagram_business_basic%2Cinstagram_business_content_publish" in url
    code = parse_callback(location, expected_state="xyz")
    assert not code.endswith("#_")
    with pytest.raises(InstagramError) as caught:
        parse_callback(location, expected_state="other")
    assert caught.value.kind is ErrorKind.reauthorize


async def test_a_code_works_once(instagram: Instagram) -> None:
    url = instagram.client.authorization_url(state="s")
    form = dict(httpx.URL(url).params) | {"username": "studio", "decision": "allow"}
    location = (await instagram.http.post("/oauth/authorize", data=form)).headers["location"]
    code = parse_callback(location, expected_state="s")
    await instagram.client.exchange_code(code)

    with pytest.raises(InstagramError) as caught:
        await instagram.client.exchange_code(code)
    assert caught.value.kind is ErrorKind.reauthorize


async def test_a_code_expires_after_an_hour(instagram: Instagram) -> None:
    url = instagram.client.authorization_url(state="s")
    form = dict(httpx.URL(url).params) | {"username": "studio", "decision": "allow"}
    location = (await instagram.http.post("/oauth/authorize", data=form)).headers["location"]
    instagram.emulator.clock.advance(3601)

    with pytest.raises(InstagramError) as caught:
        await instagram.client.exchange_code(parse_callback(location, expected_state="s"))
    assert caught.value.kind is ErrorKind.reauthorize


@pytest.mark.parametrize("scope", ["business_basic", "instagram_business_content_publish", ""])
async def test_authorize_refuses_retired_or_missing_scopes(
    instagram: Instagram, scope: str
) -> None:
    params = {
        "client_id": APP_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": scope,
    }
    page = await instagram.http.get("/oauth/authorize", params=params)
    assert page.status_code == 400


async def test_authorize_refuses_a_redirect_uri_that_is_not_exact(instagram: Instagram) -> None:
    params = {
        "client_id": APP_ID,
        "redirect_uri": REDIRECT_URI.rstrip("/"),
        "response_type": "code",
        "scope": "instagram_business_basic",
    }
    assert (await instagram.http.get("/oauth/authorize", params=params)).status_code == 400


async def test_the_code_exchange_must_be_a_post_form_with_the_secret(
    instagram: Instagram,
) -> None:
    as_json = await instagram.http.post("/oauth/access_token", json={"client_id": APP_ID})
    wrong_secret = await instagram.http.post(
        "/oauth/access_token",
        data={
            "client_id": APP_ID,
            "client_secret": "nope",
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
            "code": "x",
        },
    )
    assert as_json.status_code == wrong_secret.status_code == 400
    assert wrong_secret.json()["error"]["code"] == 100


@pytest.mark.parametrize("config", [make_config(exchange_shape=ExchangeShape.DATA)])
async def test_the_data_wrapped_exchange_answer_is_read_too(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login("maker")
    assert user_id == await instagram.user_id("maker")
    assert (await instagram.client.account(tokens)).account_type == "MEDIA_CREATOR"


async def test_only_a_short_lived_token_is_exchanged(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    response = await instagram.http.get(
        "/access_token",
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": APP_SECRET,
            "access_token": tokens.access_token.get_secret_value(),
        },
    )
    assert response.status_code == 400


async def test_refresh_waits_for_a_day_then_renews_sixty_days(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    with pytest.raises(InstagramError) as too_new:
        await instagram.client.refresh(tokens)
    assert too_new.value.kind is ErrorKind.fail
    assert not tokens.refresh_due(instagram.emulator.clock.as_datetime())

    instagram.emulator.clock.advance(8 * DAY)
    assert tokens.refresh_due(instagram.emulator.clock.as_datetime())
    renewed = await instagram.client.refresh(tokens)

    assert renewed.access_token != tokens.access_token
    assert renewed.expires_at - renewed.issued_at == timedelta(days=60)
    assert (await instagram.client.account(renewed)).username == "studio"
    with pytest.raises(InstagramError) as old:
        await instagram.client.account(tokens)  # replaced by the refresh (strict)
    assert old.value.kind is ErrorKind.refresh


async def test_an_expired_token_cannot_be_refreshed_or_used(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    instagram.emulator.clock.advance(61 * DAY)

    with pytest.raises(InstagramError) as used:
        await instagram.client.account(tokens)
    assert (used.value.kind, used.value.code) == (ErrorKind.reauthorize, "190/463")
    with pytest.raises(InstagramError) as refreshed:
        await instagram.client.refresh(tokens)
    assert refreshed.value.kind is ErrorKind.reauthorize
    # Even when our clock disagrees, the emulator refuses it the same way.
    stale = TokenSet(tokens.access_token, tokens.issued_at, tokens.expires_at + timedelta(days=9))
    with pytest.raises(InstagramError) as late:
        await instagram.client.refresh(stale)
    assert late.value.kind is ErrorKind.reauthorize


async def test_an_unknown_token_is_refused(instagram: Instagram) -> None:
    now = instagram.emulator.clock.as_datetime()
    bogus = TokenSet(SecretStr("IGAAnot-a-token"), now, now + timedelta(days=60))
    with pytest.raises(InstagramError) as caught:
        await instagram.client.account(bogus)
    assert caught.value.graph_code == 190
