"""The sandbox as the public app exposes it: no admin door, no signing key in the source,
and TikTok calls that never leave the process."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.app import TEST_SECRET
from tests.fixtures.users import user_headers
from tiktimer.platforms.tiktok.emulator import SANDBOX_CLIENT_KEY
from tiktimer.platforms.tiktok.sandbox import IN_PROCESS_BASE, client_secret_for
from tiktimer.webhooks.signature import sign

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tiktimer"
WEBHOOK = "/api/v1/webhooks/tiktok"
ADMIN_ROUTES = [
    ("GET", "/_emulator/publications"),
    ("GET", "/_emulator/creators"),
    ("GET", "/_emulator/clients"),
    ("GET", "/_emulator/requests"),
    ("POST", "/_emulator/tokens"),
    ("POST", "/_emulator/reset"),
    ("POST", "/_emulator/faults"),
    ("POST", "/_emulator/clock/advance"),
    ("POST", "/_emulator/authorizations/remove"),
    ("POST", "/_emulator/publish-failures"),
]


def source_string_constants() -> set[str]:
    """Every string literal of the service's source that could pass for a key."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if 4 <= len(value) <= 200 and value.isprintable() and " " not in value:
                    found.add(value)
    return found


def removal(open_id: str = "victim-open-id") -> bytes:
    return json.dumps(
        {
            "client_key": SANDBOX_CLIENT_KEY,
            "event": "authorization.removed",
            "create_time": int(time.time()),
            "user_openid": open_id,
            "content": json.dumps({"reason": 1}),
        }
    ).encode()


async def post_signed(client: httpx.AsyncClient, body: bytes, secret: str) -> int:
    headers = {
        "Content-Type": "application/json",
        "TikTok-Signature": sign(secret, body, int(time.time())),
    }
    return (await client.post(WEBHOOK, content=body, headers=headers)).status_code


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_the_admin_api_is_not_reachable_through_the_public_app(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    alice = await user_headers(client, "alice")
    for headers in ({}, alice):
        response = await client.request(method, f"/sandbox/tiktok{path}", headers=headers, json={})
        assert response.status_code == 404, response.text


async def test_a_webhook_signed_with_any_value_from_the_source_is_refused(
    client: httpx.AsyncClient,
) -> None:
    constants = source_string_constants()
    assert len(constants) > 500  # the walk found the source
    body = removal()
    refused = {value: await post_signed(client, body, value) for value in sorted(constants)}
    assert {v: s for v, s in refused.items() if s != 403} == {}
    # The installation's own key (derived from its SECRET_KEY) is what TikTok signs with.
    assert await post_signed(client, body, client_secret_for(TEST_SECRET)) == 200


def test_the_installation_secret_is_not_in_the_source() -> None:
    assert client_secret_for(TEST_SECRET) not in source_string_constants()
    assert client_secret_for(TEST_SECRET) != client_secret_for(TEST_SECRET + "x")


async def test_tiktok_calls_stay_in_the_process(app: FastAPI) -> None:
    """The client names no port: a worker beside `serve --port 8001` cannot guess wrong."""
    assert app.state.services.tiktok.api_base == IN_PROCESS_BASE
    assert app.state.services.tiktok.auth_url.startswith("http://tiktimer.test/sandbox/tiktok/")
