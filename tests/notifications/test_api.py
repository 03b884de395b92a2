"""The endpoints' API: clear 4xx answers, one user's endpoints are another's 404s."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.users import user_headers
from tests.notifications.conftest import API, add_endpoint

GOOD = "https://hooks.example.com/tiktimer"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.com/x", "only https"),
        ("ftp://hooks.example.com/x", "only https"),
        ("https://10.1.2.3/x", "private"),
        ("https://169.254.169.254/latest", "cloud metadata"),
        ("https:///nohost", "no host"),
        ("not a url at all", "only https"),
    ],
)
async def test_unsafe_or_malformed_urls_are_refused(
    client: httpx.AsyncClient, alice: dict[str, str], url: str, words: str
) -> None:
    response = await client.post(f"{API}/endpoints", json={"url": url}, headers=alice)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "url"]
    assert words in error["msg"]


async def test_bad_bodies_are_422s(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    for body in (
        {"url": GOOD, "events": ["post.exploded"]},
        {"url": GOOD, "events": []},
        {"url": GOOD, "secret": "mine"},
        {"url": GOOD + "\x00"},
        {"url": "https://x.example/" + "a" * 2100},
    ):
        response = await client.post(f"{API}/endpoints", json=body, headers=alice)
        assert response.status_code == 422, (body, response.text)
    response = await client.get(f"{API}/deliveries?limit=0", headers=alice)
    assert response.status_code == 422


async def test_an_endpoint_is_added_changed_and_removed(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    created = await add_endpoint(client, alice, GOOD, description="Slack bridge")
    assert created["events"] == [
        "post.published",
        "post.failed",
        "post.missed",
        "post.unconfirmed",
        "account.reconnect_needed",
    ]
    url = f"{API}/endpoints/{created['id']}"
    changed = await client.patch(url, json={"events": ["post.failed"] * 2}, headers=alice)
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["post.failed"]
    [listed] = (await client.get(f"{API}/endpoints", headers=alice)).json()
    assert listed == changed.json()
    assert (await client.delete(url, headers=alice)).status_code == 204
    assert (await client.delete(url, headers=alice)).status_code == 404
    assert (await client.get(f"{API}/endpoints", headers=alice)).json() == []


async def test_another_users_endpoint_is_not_found(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    created = await add_endpoint(client, alice, GOOD)
    bob = await user_headers(client, "bob")
    url = f"{API}/endpoints/{created['id']}"
    for response in (
        await client.post(f"{url}/test", headers=bob),
        await client.patch(url, json={"events": ["post.failed"]}, headers=bob),
        await client.delete(url, headers=bob),
        await client.post(f"{API}/endpoints/99999999999/test", headers=bob),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == "Notification endpoint not found"
    assert (await client.get(f"{API}/deliveries", headers=bob)).json() == []
    assert (await client.get(f"{API}/endpoints", headers=alice)).json()[0]["id"] == created["id"]


async def test_signed_out_callers_are_401(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/"), ("GET", "/endpoints"), ("GET", "/deliveries")):
        assert (await client.request(method, f"{API}{path}")).status_code == 401
