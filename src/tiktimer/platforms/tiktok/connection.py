"""Which TikTok this process talks to: the real one, or the built-in sandbox emulator.

Sandbox mode (no `TIKTOK_CLIENT_KEY`) mounts the emulator at `/sandbox/tiktok` on this
service and points the client at it (in-process, see `sandbox`), so a newcomer can connect
a sandbox creator and watch a post go out without a TikTok developer account.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from tiktimer.config import Settings
from tiktimer.kit.safe_fetch import GuardedTransport
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.sandbox import SANDBOX_MOUNT, Sandbox, build_sandbox

__all__ = ["SANDBOX_MOUNT", "TikTokConnection", "build_tiktok"]


@dataclass(frozen=True, slots=True)
class TikTokConnection:
    client: TikTokClient
    sandbox_app: FastAPI | None
    client_secret: str  # also the key of TikTok's webhook signatures (reference §9)
    sandbox: Sandbox | None = None


def build_tiktok(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    deliver_webhooks: bool = True,
) -> TikTokConnection:
    """The TikTok client of this process. In sandbox mode its calls go in-process to this
    process's emulator whatever `transport` is; `transport` then carries what the sandbox
    fetches from this service (PULL_FROM_URL media, webhooks), for tests."""
    scopes = [s.strip() for s in settings.tiktok.scopes.split(",") if s.strip()]
    if not settings.tiktok.sandbox_enabled:
        if not settings.tiktok.client_key or settings.tiktok.client_secret is None:
            raise ValueError("TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET must both be set")
        client = TikTokClient(
            client_key=settings.tiktok.client_key,
            client_secret=settings.tiktok.client_secret,
            redirect_uri=settings.tiktok.callback_url(settings.server.public_base_url),
            scopes=scopes,
            auth_url=settings.tiktok.auth_url,
            api_base=settings.tiktok.api_base,
            transport=transport,
        )
        return TikTokConnection(client, None, settings.tiktok.client_secret.get_secret_value())
    sandbox = build_sandbox(
        settings,
        scopes=scopes,
        pull_transport=transport or sandbox_pull_transport(settings),
        webhook_transport=transport,
        deliver_webhooks=deliver_webhooks,
    )
    return TikTokConnection(sandbox.client, sandbox.app, sandbox.client_secret, sandbox)


def sandbox_pull_transport(settings: Settings) -> GuardedTransport:
    """The sandbox's PULL_FROM_URL downloads go through the SSRF guard, like any fetch.

    The configured media public URL is this service itself (often plain http on loopback
    in a sandbox setup): its host is trusted; anything else must be public https."""
    host = urlsplit(settings.server.media_public_base_url).hostname or ""
    policy = settings.server.fetch_policy
    return GuardedTransport(policy.trusting(host) if host else policy)
