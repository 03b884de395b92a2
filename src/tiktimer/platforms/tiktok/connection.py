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
    client_secret: str  # also the key of TikTok's webhook signatures (reference §9)


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
        return TikTokConnection(client, None, settings.tiktok_client_secret.get_secret_value())
    base = settings.public_base_url + SANDBOX_MOUNT
    sandbox_client = ClientConfig(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret=SANDBOX_CLIENT_SECRET,
        redirect_uris=(settings.redirect_uri,),
        check_registration_rules=False,  # loopback http redirect URIs are fine for a sandbox
        # An audited app: a newcomer's sandbox creator (public by default) can publish at
        # once. The unaudited rules stay covered by the emulator's own tests.
        audited=True,
        # Photo posts are pulled from our signed public media URLs (publishing.public_media).
        verified_url_prefixes=(f"{settings.media_public_base_url}/api/v1/media/",),
        allow_insecure_pull_urls=True,
    )
    webhook_url = f"{settings.public_base_url}/api/v1/webhooks/tiktok"
    emulator = create_emulator_app(
        EmulatorConfig(
            clients=(sandbox_client,),
            pull_transport=transport,
            webhook_url=webhook_url if settings.sandbox_webhooks else None,
            webhook_transport=transport,
        )
    )
    client = TikTokClient(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret=SANDBOX_CLIENT_SECRET,
        redirect_uri=settings.redirect_uri,
        scopes=scopes,
        auth_url=f"{base}/v2/auth/authorize/",
        api_base=base,
        transport=transport,
    )
    return TikTokConnection(client, emulator, SANDBOX_CLIENT_SECRET)
