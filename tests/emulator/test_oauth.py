"""Login Kit: the consent page, code exchange with PKCE, rotation, expiry and revoke."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote, unquote

import pytest

from tests.emulator.flows import (
    ALL_SCOPES,
    AUDITED_KEY,
    REDIRECT_URI,
    SECRET,
    TikTok,
    bearer,
    make_config,
    pkce_pair,
    serve,
    with_client,
)

AUTHORIZE = "https://www.tiktok.test/v2/auth/authorize/"


async def test_consent_page_lists_creators_and_posts_back_to_itself(tiktok: TikTok) -> None:
    _, challenge = pkce_pair()
    params = tiktok.authorize_params(code_challenge=challenge, code_challenge_method="S256")

    page = await tiktok.http.get(AUTHORIZE, params=params)

    assert page.status_code == 200
    assert 'action="https://www.tiktok.test/v2/auth/authorize/"' in page.text
    assert 'value="alice"' in page.text
    assert 'value="bob"' in page.text
    for scope in ALL_SCOPES.split(","):
        assert f'value="{scope}"' in page.text


async def test_allow_redirects_with_code_granted_scopes_and_state(tiktok: TikTok) -> None:
    auth = await tiktok.authorize(state="state with spaces & symbols")

    assert str(auth.location).startswith(REDIRECT_URI + "?")
    assert auth.location.params["state"] == "state with spaces & symbols"
    assert auth.location.params["scopes"] == ALL_SCOPES
    # The code needs percent-encoding, so clients that skip URL-decoding it fail.
    assert re.search(r"%2A|%21|%2F", auth.location.query.decode())


async def test_code_exchange_returns_the_seven_flat_fields(tiktok: TikTok) -> None:
    tokens = await tiktok.connect()

    assert set(tokens) == {
        "access_token",
        "expires_in",
        "open_id",
        "refresh_expires_in",
        "refresh_token",
        "scope",
        "token_type",
    }
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == ALL_SCOPES
    assert tokens["expires_in"] == 7200
    assert tokens["refresh_expires_in"] == 15_552_000
    assert "-" in tokens["open_id"]
    assert tokens["open_id"] == tiktok.emulator.open_id(AUDITED_KEY, "alice")


async def test_user_can_grant_a_subset_of_scopes(tiktok: TikTok) -> None:
    auth = await tiktok.authorize(extra_form={"granted_scopes": "video.upload"})

    assert auth.location.params["scopes"] == "user.info.basic,video.upload"
    response = await tiktok.exchange(auth)
    assert response.json()["scope"] == "user.info.basic,video.upload"


async def test_creating_a_creator_on_the_consent_page(tiktok: TikTok) -> None:
    auth = await tiktok.authorize(creator="", extra_form={"new_creator": "Carol Danvers"})

    tokens = (await tiktok.exchange(auth)).json()
    assert tokens["open_id"] == tiktok.emulator.open_id(AUDITED_KEY, "carol_danvers")
    assert tiktok.emulator.creator("carol_danvers").display_name == "Carol Danvers"


async def test_deny_redirects_with_access_denied_and_state(tiktok: TikTok) -> None:
    form = tiktok.authorize_params(state="s1") | {"decision": "deny"}
    _, challenge = pkce_pair()
    form |= {"code_challenge": challenge, "code_challenge_method": "S256"}

    response = await tiktok.http.post(AUTHORIZE, data=form)

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?error=access_denied&error_description=")
    assert location.endswith("&state=s1")


async def test_granting_nothing_is_a_denial(tiktok: TikTok) -> None:
    _, challenge = pkce_pair()
    form = tiktok.authorize_params(
        scope="video.publish", code_challenge=challenge, code_challenge_method="S256"
    ) | {"decision": "allow", "creator": "alice", "granted_scopes": ""}

    response = await tiktok.http.post(AUTHORIZE, data=form)

    assert "error=access_denied" in response.headers["location"]


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"client_key": None, "client_id": AUDITED_KEY}, "client_key"),
        ({"client_key": "nobody"}, "client_key"),
        ({"redirect_uri": REDIRECT_URI.rstrip("/")}, "redirect_uri"),
        ({"redirect_uri": REDIRECT_URI.replace("app.", "www.app.")}, "redirect_uri"),
        ({"response_type": None}, "response_type"),
        ({"scope": "video.publish,video.delete"}, "scope"),
        ({"scope": "video.publish user.info.basic"}, "scope"),
        ({"state": None}, "state"),
        ({"code_challenge": None, "code_challenge_method": None}, "code_challenge"),
        ({"code_challenge_method": "plain"}, "code_challenge_method"),
        ({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge"),
    ],
)
async def test_misconfigured_requests_get_tiktoks_error_page(
    tiktok: TikTok, change: dict[str, str | None], parameter: str
) -> None:
    _, challenge = pkce_pair()
    params = tiktok.authorize_params(
        **({"code_challenge": challenge, "code_challenge_method": "S256"} | change)
    )

    page = await tiktok.http.get(AUTHORIZE, params=params)
    posted = await tiktok.http.post(AUTHORIZE, data=params | {"decision": "allow"})

    for response in (page, posted):
        assert response.status_code == 400
        assert "We couldn't log in with TikTok" in response.text
        assert f"<code>{parameter}</code>" in response.text


async def test_pkce_may_be_optional_per_client() -> None:
    async with serve(with_client(make_config(), pkce_required=False)) as tiktok:
        form = tiktok.authorize_params() | {"decision": "allow", "creator": "alice"}
        response = await tiktok.http.post(AUTHORIZE, data=form)
        code = response.headers["location"].split("code=")[1].split("&")[0]

        tokens = await tiktok.token(
            code=unquote(code), grant_type="authorization_code", redirect_uri=REDIRECT_URI
        )

        assert "access_token" in tokens.json()


async def test_wrong_secret_is_invalid_client(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()

    response = await tiktok.exchange(auth, client_secret="guess")

    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert set(body) == {"error", "error_description", "log_id"}


async def test_credentials_must_be_form_fields(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()
    fields = {
        "client_key": AUDITED_KEY,
        "client_secret": SECRET,
        "code": auth.location.params["code"],
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": auth.verifier,
    }

    as_json = await tiktok.http.post("/v2/oauth/token/", json=fields)
    basic_only = await tiktok.http.post(
        "/v2/oauth/token/",
        data={k: v for k, v in fields.items() if not k.startswith("client_")},
        auth=(AUDITED_KEY, SECRET),
    )

    assert as_json.json()["error"] == "invalid_request"
    assert basic_only.json()["error"] == "invalid_client"


async def test_redirect_uri_must_be_identical_at_exchange(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()

    response = await tiktok.exchange(auth, redirect_uri=REDIRECT_URI + "?x=1")

    assert response.json()["error"] == "invalid_grant"


async def test_code_is_single_use_and_a_replay_revokes_its_tokens(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()
    first = (await tiktok.exchange(auth)).json()

    replay = await tiktok.exchange(auth)

    assert replay.json()["error"] == "invalid_grant"
    info = await tiktok.http.get(
        "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(first["access_token"])
    )
    assert info.status_code == 401


async def test_code_expires(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()
    tiktok.emulator.advance_clock(61)

    response = await tiktok.exchange(auth)

    assert response.json()["error"] == "invalid_grant"
    assert "expired" in response.json()["error_description"]


async def test_code_must_be_url_decoded_once(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()

    response = await tiktok.exchange(auth, code=quote(auth.location.params["code"], safe=""))

    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("verifier", ["wrong-" + "v" * 50, ""])
async def test_bad_or_missing_verifier(tiktok: TikTok, verifier: str) -> None:
    auth = await tiktok.authorize()

    response = await tiktok.exchange(auth, code_verifier=verifier)

    assert response.json()["error"] == "invalid_request"


async def test_verifier_for_a_base64url_challenge_does_not_match_hex(tiktok: TikTok) -> None:
    auth = await tiktok.authorize()
    other_verifier, _ = pkce_pair()

    response = await tiktok.exchange(auth, code_verifier=other_verifier)

    assert response.json() | {"log_id": ""} == {
        "error": "invalid_request",
        "error_description": "Code verifier or code challenge is invalid.",
        "log_id": "",
    }


async def test_unknown_grant_type(tiktok: TikTok) -> None:
    response = await tiktok.token(grant_type="client_credentials")

    assert response.json()["error"] == "unsupported_grant_type"


async def test_refresh_rotates_and_the_old_refresh_token_dies(tiktok: TikTok) -> None:
    first = await tiktok.connect()

    second = await tiktok.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    reuse = await tiktok.token(grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert reuse.json()["error"] == "invalid_grant"
    # Trust nothing: after a replay the whole grant is revoked, new tokens included.
    after = await tiktok.token(
        grant_type="refresh_token", refresh_token=second.json()["refresh_token"]
    )
    assert after.json()["error"] == "invalid_grant"


async def test_concurrent_refreshes_of_one_token_let_only_one_win(tiktok: TikTok) -> None:
    tokens = await tiktok.connect()

    results = await asyncio.gather(
        *(
            tiktok.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
            for _ in range(2)
        )
    )

    assert sorted("access_token" in r.json() for r in results) == [False, True]


async def test_refresh_lifetime_counts_from_first_issue(tiktok: TikTok) -> None:
    tokens = await tiktok.connect()
    tiktok.emulator.advance_clock(1000)

    refreshed = await tiktok.token(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )

    assert refreshed.json()["refresh_expires_in"] <= 15_552_000 - 1000


async def test_refresh_token_expires() -> None:
    async with serve(make_config(refresh_token_lifetime_seconds=100)) as tiktok:
        tokens = await tiktok.connect()
        tiktok.emulator.advance_clock(101)

        response = await tiktok.token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )

        assert response.json()["error"] == "invalid_grant"


async def test_access_token_expires(tiktok: TikTok) -> None:
    tokens = await tiktok.connect()
    tiktok.emulator.advance_clock(7200)

    response = await tiktok.creator_info(tokens["access_token"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "access_token_invalid"


async def test_revoke_kills_access_and_refresh_tokens(tiktok: TikTok) -> None:
    tokens = await tiktok.connect()

    response = await tiktok.http.post(
        "/v2/oauth/revoke/",
        data={"client_key": AUDITED_KEY, "client_secret": SECRET, "token": tokens["access_token"]},
    )

    assert response.status_code == 200
    assert response.json() == {}
    assert (await tiktok.creator_info(tokens["access_token"])).status_code == 401
    refresh = await tiktok.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


async def test_oauth_errors_can_come_with_http_200() -> None:
    async with serve(make_config(oauth_errors_http_200=True)) as tiktok:
        response = await tiktok.token(grant_type="refresh_token", refresh_token="rft.nope")

        assert response.status_code == 200
        assert response.json()["error"] == "invalid_grant"
