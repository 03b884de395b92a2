"""The built-in TikTok sandbox: an emulator per process over one shared, persistent state.

Each API and worker process builds its own emulator over the installation's sandbox state
(`sandbox_state`), and its TikTok client reaches that emulator in-process, so no process
ever needs another's address. Only browser-facing URLs (the consent page) name this
service, through its public base URL (`TIKTIMER_PUBLIC_URL`); webhooks are delivered by
the API processes to their own app, in-process too. The public mount serves TikTok's
endpoints and consent page only: the emulator's admin and fault-injection API is off.

The sandbox app's client secret (also the key of its webhook signatures) and the key
that signs its upload URLs are derived from the installation's SECRET_KEY, so every
process agrees on them and no constant in the source can sign anything.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from tiktimer.config import Settings
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.emulator.app import create_emulator_app
from tiktimer.platforms.tiktok.emulator.config import (
    SANDBOX_CLIENT_KEY,
    ClientConfig,
    EmulatorConfig,
)
from tiktimer.platforms.tiktok.emulator.emulator import Emulator
from tiktimer.platforms.tiktok.emulator.store import StateStore, StateUnavailable
from tiktimer.platforms.tiktok.sandbox_state import DatabaseStateStore, sandbox_database_url

log = logging.getLogger("tiktimer.sandbox")

SANDBOX_MOUNT = "/sandbox/tiktok"
# The in-process address of this process's emulator: resolved by the ASGI transport,
# never by DNS.
IN_PROCESS_BASE = "http://tiktok-sandbox.internal"
WEBHOOK_PATH = "/api/v1/webhooks/tiktok"


def derive_secret(secret_key: str, purpose: str) -> str:
    """A per-installation secret for `purpose`: HMAC-SHA256 of it under SECRET_KEY."""
    message = f"tiktimer sandbox {purpose}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def client_secret_for(secret_key: str) -> str:
    """The sandbox app's client secret (and webhook signing key) of an installation."""
    return derive_secret(secret_key, "client secret")


def sandbox_client_secret(settings: Settings) -> str:
    return client_secret_for(settings.auth.jwt_key)


class AppTransport(httpx.AsyncBaseTransport):
    """ASGI transport to an app bound after construction (the service, for its webhooks)."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.app is None:
            raise httpx.ConnectError("the sandbox's webhook receiver is not bound yet")
        return await httpx.ASGITransport(app=self.app).handle_async_request(request)


@dataclass(frozen=True, slots=True)
class Sandbox:
    app: FastAPI
    client: TikTokClient
    client_secret: str
    webhook_receiver: AppTransport | None  # bind the service's app to it (API processes)

    @property
    def emulator(self) -> Emulator:
        emulator: Emulator = self.app.state.emulator
        return emulator


def sandbox_store(settings: Settings) -> StateStore | None:
    url = sandbox_database_url(settings.database.url)
    return DatabaseStateStore(url) if url else None


def build_sandbox(
    settings: Settings,
    *,
    scopes: list[str],
    pull_transport: httpx.AsyncBaseTransport | None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    deliver_webhooks: bool = True,
) -> Sandbox:
    """The emulator app over the shared state, and a TikTok client wired to it in-process.

    `deliver_webhooks=False` (workers) leaves webhook delivery to the API processes.
    `webhook_transport` replaces the in-process delivery to the bound app (tests)."""
    secret = sandbox_client_secret(settings)
    sandbox_client = ClientConfig(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret=secret,
        redirect_uris=(settings.tiktok.callback_url(settings.server.public_base_url),),
        check_registration_rules=False,  # loopback http redirect URIs are fine for a sandbox
        # An audited app: a newcomer's sandbox creator (public by default) can publish at
        # once. The unaudited rules stay covered by the emulator's own tests.
        audited=True,
        # Photo posts are pulled from our signed public media URLs (publishing.public_media).
        verified_url_prefixes=(f"{settings.server.media_public_base_url}/api/v1/media/",),
        allow_insecure_pull_urls=True,
    )
    receiver = AppTransport() if deliver_webhooks and webhook_transport is None else None
    webhooks = settings.tiktok.sandbox_webhooks and deliver_webhooks
    app = create_emulator_app(
        EmulatorConfig(
            clients=(sandbox_client,),
            signing_secret=derive_secret(settings.auth.jwt_key, "upload signing"),
            pull_transport=pull_transport,
            webhook_url=f"{settings.server.public_base_url}{WEBHOOK_PATH}" if webhooks else None,
            webhook_transport=webhook_transport or receiver,
            admin_enabled=False,
        ),
        store=sandbox_store(settings),
    )
    client = TikTokClient(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret=secret,
        redirect_uri=settings.tiktok.callback_url(settings.server.public_base_url),
        scopes=scopes,
        auth_url=f"{settings.server.public_base_url}{SANDBOX_MOUNT}/v2/auth/authorize/",
        api_base=IN_PROCESS_BASE,
        transport=httpx.ASGITransport(app=app),
    )
    return Sandbox(app, client, secret, receiver)


def standalone_emulator_app() -> FastAPI:
    """The emulator on its own, in memory, with its admin API (`tiktimer emulator`)."""
    return create_emulator_app()


class SandboxUnreachable(Exception):
    """The shared sandbox state cannot be reached: this process cannot serve the sandbox."""


async def start_sandbox(sandbox: Sandbox, *, role: str = "api") -> None:
    """Reach the shared state once, loudly, then start the webhook sender (API processes)."""
    emulator = sandbox.emulator
    store = emulator.store
    try:
        await emulator.check_state()
    except StateUnavailable as exc:
        log.error("sandbox.unreachable role=%s %s", role, exc)
        raise SandboxUnreachable(
            f"the TikTok sandbox's state is unreachable ({exc}); a {role} process cannot "
            "publish sandbox posts without it"
        ) from exc
    log.info(
        "sandbox.state role=%s shared_state=%s",
        role,
        store.describe() if store is not None else "this process's memory only",
    )
    emulator.ensure_background()  # a no-op unless this process delivers webhooks
