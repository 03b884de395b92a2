"""Security headers on every response, a nonce-only CSP on HTML pages, HSTS over HTTPS."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from tests.accounts.conftest import start
from tests.fixtures.users import user_headers


def assert_base_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def assert_nonce_only_policy(page: httpx.Response) -> None:
    """Every inline <style>/<script> carries the nonce the CSP names; nothing else may run."""
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "default-src 'none'" in policy
    nonces = set(re.findall(r"'nonce-([^']+)'", policy))
    inline = re.findall(r"<(style|script)([^>]*)>", page.text)
    assert inline, "expected the page to have its inline style"
    for _tag, attributes in inline:
        found = re.search(r'nonce="([^"]+)"', attributes)
        assert found, f"inline tag without nonce: {attributes!r}"
        assert found.group(1) in nonces
    assert "src=" not in "".join(a for _, a in inline)  # no scripts at all on these pages


async def test_json_responses_carry_the_base_headers(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health"), await client.get("/posts/")):
        assert_base_headers(response)
        assert "strict-transport-security" not in response.headers  # plain http


async def test_hsts_only_over_https(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://tiktimer.test"
    ) as client:
        response = await client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_callback_pages_have_a_nonce_csp(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/v1/auth/tiktok/callback", params={"state": "x", "code": "y"})
    assert page.status_code == 400
    assert_base_headers(page)
    assert_nonce_only_policy(page)
    other = await client.get("/api/v1/auth/tiktok/callback", params={"state": "x", "code": "y"})
    assert other.headers["content-security-policy"] != page.headers["content-security-policy"]


async def test_sandbox_consent_page_is_covered(client: httpx.AsyncClient) -> None:
    alice = await user_headers(client, "alice")
    parts = urlsplit(await start(client, alice))
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    assert_base_headers(page)
    assert_nonce_only_policy(page)
    assert "form-action 'self'" in page.headers["content-security-policy"]


async def test_a_500_still_carries_the_base_headers(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/_test/boom", boom, include_in_schema=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://tiktimer.test",
        ) as client:
            response = await client.get("/_test/boom")
    finally:
        app.router.routes[:] = [
            r for r in app.router.routes if getattr(r, "path", "") != "/_test/boom"
        ]
    assert response.status_code == 500
    assert_base_headers(response)
