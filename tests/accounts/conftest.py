"""Drive TikTok's consent page (our sandbox emulator) the way a browser would."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tiktimer.platforms.tiktok.emulator.emulator import Emulator


@dataclass
class Consent:
    """The redirect TikTok's consent form sent the browser to."""

    location: str

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}

    @property
    def path_and_query(self) -> str:
        parts = urlsplit(self.location)
        return f"{parts.path}?{parts.query}"


async def start(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get("/api/v1/auth/tiktok/authorize", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["sandbox"] is True
    url: str = response.json()["authorization_url"]
    return url


async def consent(
    client: httpx.AsyncClient,
    authorization_url: str,
    *,
    creator: str = "creator_one",
    decision: str = "allow",
    granted_scopes: str | None = None,
    **overrides: str,
) -> Consent:
    """Load the consent page, then submit it; returns where TikTok redirects."""
    parts = urlsplit(authorization_url)
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    form = {k: v[0] for k, v in parse_qs(parts.query).items()}
    form.update(overrides)
    form.update({"decision": decision, "new_creator": creator})
    if granted_scopes is not None:
        form["granted_scopes"] = granted_scopes
    response = await client.post(parts.path, data=form)
    assert response.status_code == 302, response.text
    return Consent(response.headers["location"])


async def connect(
    client: httpx.AsyncClient, headers: dict[str, str], **consent_args: str
) -> httpx.Response:
    """The whole dance; returns the callback page response."""
    redirect = await consent(client, await start(client, headers), **consent_args)
    return await client.get(redirect.path_and_query)


@pytest.fixture
def emulator(app: FastAPI) -> Emulator:
    sandbox: Emulator = app.state.services.sandbox_emulator
    return sandbox


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client, "alice")
