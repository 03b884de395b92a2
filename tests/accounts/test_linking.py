"""A consent link finishes only for the TikTimer user who started it (issue 10, point 5).

Browsers are separate httpx clients (separate cookie jars) on the same app: "Alice's browser"
started the flow; "Bob's browser" is wherever the link ended up.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from http.cookiejar import Cookie
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts.conftest import Consent, consent, start
from tests.fixtures.app import TEST_BASE_URL
from tests.fixtures.users import DEFAULT_PASSWORD, user_headers
from tiktimer.auth.ratelimits import build_credential_limits

CONFIRM = "/api/v1/auth/tiktok/confirm"


@pytest.fixture
async def other_browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=TEST_BASE_URL
    ) as browser:
        yield browser


async def accounts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    response = await client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 200
    result: list[dict] = response.json()
    return result


def ticket_of(page: httpx.Response) -> str:
    found = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def opened_elsewhere(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, alice: dict[str, str], **args: str
) -> tuple[Consent, httpx.Response]:
    """Alice starts; the link is consented to and lands in `browser`, without her cookie."""
    redirect = await consent(browser, await start(client, alice), **args)
    return redirect, await browser.get(redirect.path_and_query)


async def test_link_opened_by_someone_else_attaches_nothing_and_explains(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    redirect, page = await opened_elsewhere(client, other_browser, alice, creator="bobs_tiktok")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "did not start this connection" in page.text
    assert "attaches nothing" in page.text
    assert redirect.query["code"] not in page.text  # the code stays on the server
    assert redirect.query["state"] not in page.text
    assert await accounts(client, alice) == []
    # The state is spent: Alice's own browser cannot replay the callback either.
    replay = await client.get(redirect.path_and_query)
    assert replay.status_code == 400
    assert "already used" in replay.text
    assert await accounts(client, alice) == []


async def test_starting_browser_with_its_cookie_connects(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    started = await client.get(
        "/api/v1/auth/tiktok/authorize", params={"redirect": "true"}, headers=alice
    )
    assert started.status_code == 307
    cookie = next(c for c in client.cookies.jar if c.name == "tiktimer_connect")
    assert cookie.path == "/api/v1/auth/tiktok"
    assert not cookie.secure  # plain http here
    set_cookie = started.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    redirect = await consent(client, started.headers["location"], creator="alices_tiktok")
    page = await client.get(redirect.path_and_query)
    assert page.status_code == 200, page.text
    assert "Connected as alices_tiktok" in page.text
    [account] = await accounts(client, alice)
    assert account["display_name"] == "alices_tiktok"


async def test_cookie_of_another_flow_does_not_prove_this_one(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    bob = await user_headers(other_browser, "bob")
    await start(other_browser, bob)  # Bob's browser holds a cookie of his own flow
    _, page = await opened_elsewhere(client, other_browser, alice)
    assert "did not start this connection" in page.text
    assert await accounts(client, alice) == []
    assert await accounts(other_browser, bob) == []


async def test_confirmation_by_the_wrong_user_attaches_nothing(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    bob = await user_headers(other_browser, "bob")
    _, page = await opened_elsewhere(client, other_browser, alice)
    form = {"ticket": ticket_of(page), "username": "bob", "password": DEFAULT_PASSWORD}
    answer = await other_browser.post(CONFIRM, data=form)
    assert answer.status_code == 403
    assert "different TikTimer user" in answer.text
    assert await accounts(client, alice) == []
    assert await accounts(other_browser, bob) == []
    # One try per ticket: even the right user cannot use it afterwards.
    form.update(username="alice")
    again = await other_browser.post(CONFIRM, data=form)
    assert again.status_code == 400
    assert "already used" in again.text
    assert await accounts(client, alice) == []


async def test_confirmation_by_the_starting_user_connects(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    _, page = await opened_elsewhere(client, other_browser, alice, creator="on_my_phone")
    set_cookie = page.headers["set-cookie"].lower()
    assert "tiktimer_confirm=" in set_cookie
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie
    form = {"ticket": ticket_of(page), "username": "alice", "password": DEFAULT_PASSWORD}
    answer = await other_browser.post(CONFIRM, data=form)
    assert answer.status_code == 200, answer.text
    assert "Connected as on_my_phone" in answer.text
    [account] = await accounts(client, alice)
    assert account["display_name"] == "on_my_phone"
    # Replaying the confirmation changes nothing (its cookie is gone, and the ticket spent).
    again = await other_browser.post(CONFIRM, data=form)
    assert again.status_code == 403
    assert len(await accounts(client, alice)) == 1


async def test_confirmation_by_email_works_too(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    _, page = await opened_elsewhere(client, other_browser, alice)
    form = {"ticket": ticket_of(page), "username": "alice@example.com", "password": "x" * 8}
    wrong = await other_browser.post(CONFIRM, data=form)
    assert wrong.status_code == 401
    assert "nothing was attached" in wrong.text
    assert await accounts(client, alice) == []
    _, page = await opened_elsewhere(client, other_browser, alice)
    form = {
        "ticket": ticket_of(page),
        "username": "alice@example.com",
        "password": DEFAULT_PASSWORD,
    }
    assert (await other_browser.post(CONFIRM, data=form)).status_code == 200
    assert len(await accounts(client, alice)) == 1


async def test_confirmation_needs_the_browser_that_got_the_page(
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
) -> None:
    """A forged cross-site post (or a stolen ticket) lacks the confirmation cookie."""
    _, page = await opened_elsewhere(client, other_browser, alice)
    form = {"ticket": ticket_of(page), "username": "alice", "password": DEFAULT_PASSWORD}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=TEST_BASE_URL
    ) as third:
        forged = await third.post(CONFIRM, data=form)
    assert forged.status_code == 403
    assert await accounts(client, alice) == []
    # A cookie that is not the ticket's does not help either.
    other_browser.cookies.jar.set_cookie(_cookie("tiktimer_confirm", "not-the-secret"))
    assert (await other_browser.post(CONFIRM, data=form)).status_code == 403
    assert await accounts(client, alice) == []


async def test_ticket_is_not_a_state(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    redirect, page = await opened_elsewhere(client, other_browser, alice)
    ticket = ticket_of(page)
    body = {"code": redirect.query["code"], "state": ticket}
    exchanged = await client.post("/api/v1/auth/tiktok/exchange-token", json=body, headers=alice)
    assert exchanged.status_code == 400
    callback = await client.get(
        urlsplit(redirect.location).path, params={"code": redirect.query["code"], "state": ticket}
    )
    assert callback.status_code == 400
    assert await accounts(client, alice) == []


async def test_api_clients_still_finish_by_exchange_token(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    response = await client.get("/api/v1/auth/tiktok/authorize", headers=alice)
    assert response.status_code == 200
    assert set(response.json()) == {"authorization_url", "sandbox"}
    redirect = await consent(client, response.json()["authorization_url"], creator="api")
    body = {"code": redirect.query["code"], "state": redirect.query["state"]}
    done = await client.post("/api/v1/auth/tiktok/exchange-token", json=body, headers=alice)
    assert done.status_code == 200, done.text
    assert done.json()["account"]["display_name"] == "api"


async def test_cookie_is_secure_behind_https(app: FastAPI, alice: dict[str, str]) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://tiktimer.test"
    ) as browser:
        started = await browser.get(
            "/api/v1/auth/tiktok/authorize", params={"redirect": "true"}, headers=alice
        )
    assert started.status_code == 307
    assert "secure" in started.headers["set-cookie"].lower()


def _cookie(name: str, value: str) -> Cookie:
    return Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain="tiktimer.test",
        domain_specified=False,
        domain_initial_dot=False,
        path="/api/v1/auth/tiktok",
        path_specified=True,
        secure=False,
        expires=None,
        discard=True,
        comment=None,
        comment_url=None,
        rest={},
    )


@pytest.fixture
async def limits_on(app: FastAPI) -> AsyncIterator[None]:
    """Login limits as in production, but tight: 2 failures per address and account."""
    original = app.state.services.credential_limits
    settings = app.state.services.settings
    auth = settings.auth.model_copy(
        update={"rate_limits_enabled": True, "rate_limit_login_user": "2/minute"}
    )
    app.state.services.credential_limits = build_credential_limits(
        auth, settings.scheduler.redis_url, key_prefix=f"t-{id(app)}"
    )
    yield
    await app.state.services.credential_limits.limiter.aclose()
    app.state.services.credential_limits = original


@pytest.mark.usefixtures("limits_on")
async def test_confirmation_is_no_way_around_the_login_limits(
    client: httpx.AsyncClient, other_browser: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    """Each confirmation is one password try: it counts like POST /token and is refused alike."""
    for _ in range(2):
        _, page = await opened_elsewhere(client, other_browser, alice)
        guess = {"ticket": ticket_of(page), "username": "alice", "password": "wrong guess"}
        assert (await other_browser.post(CONFIRM, data=guess)).status_code == 401
    _, page = await opened_elsewhere(client, other_browser, alice)
    form = {"ticket": ticket_of(page), "username": "alice", "password": DEFAULT_PASSWORD}
    limited = await other_browser.post(CONFIRM, data=form)
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert int(limited.headers["retry-after"]) >= 1
    assert "Nothing was attached" in limited.text
    assert await accounts(client, alice) == []
