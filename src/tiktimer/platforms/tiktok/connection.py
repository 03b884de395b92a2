"""Which TikTok this process talks to: the real one, or the built-in sandbox emulator.

Sandbox mode (no `TIKTOK_CLIENT_KEY`) mounts the emulator at `/sandbox/tiktok` on this
service and points the client at it, so a newcomer can connect a sandbox creator and watch a
post go out without a TikTok developer account.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from tiktimer.config import Settings
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.emulator.app import create_emulator_app
from tiktimer.platforms.tiktok.emulator.config import (
    SANDBOX_CLIENT_KEY,
    SANDBOX_CLIENT_SECRET,
    ClientConfig,
    EmulatorConfig,
)

SANDBOX_MOUNT = "/sandbox/tiktok"


@dataclass(frozen=True, slots=True)
class TikTokConnection:
    client: TikTokClient
    sandbox_app: FastAPI | None


def build_tiktok(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> TikTokConnection:
    scopes = [s.strip() for s in settings.tiktok_scopes.split(",") if s.strip()]
    if not settings.sandbox_enabled:
        if not settings.tiktok_client_key or settings.tiktok_client_secret is None:
            raise ValueError("TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET must both be set")
        client = TikTokClient(
            client_key=settings.tiktok_client_key,
            client_secret=settings.tiktok_client_secret,
            redirect_uri=settings.redirect_uri,
            scopes=scopes,
            auth_url=settings.tiktok_auth_url,
            api_base=settings.tiktok_api_base,
            transport=transport,
        )
        return TikTokConnection(client, None)
    base = settings.public_base_url + SANDBOX_MOUNT
    sandbox_client = ClientConfig(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret=SANDBOX_CLIENT_SECRET,
        redirect_uris=(settings.redirect_uri,),
        check_registration_rules=False,  # loopback http redirect URIs are fine for a sandbox
    )
    emulator = create_emulator_app(EmulatorConfig(clients=(sandbox_client,)))
    client = TikTokClient(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret=SANDBOX_CLIENT_SECRET,
        redirect_uri=settings.redirect_uri,
        scopes=scopes,
        auth_url=f"{base}/v2/auth/authorize/",
        api_base=base,
        transport=transport,
    )
    return TikTokConnection(client, emulator)
