"""The built-in YouTube sandbox: the emulator in this process, its consent page public.

Sandbox mode (no `TIKTIMER_YOUTUBE_CLIENT_ID`) mounts the emulator's consent page at
`/sandbox/youtube` on this service; the YouTube client reaches the emulator in-process (an
ASGI transport), never over the network. Only the consent page (GET the form, POST the
answer) is public: the token, upload and video endpoints, and the fault scripting the
tests use, are not reachable from outside.

The emulator's state lives in this process's memory (`MemoryStore`): a process that did
not build it cannot see its grants or videos. So only API processes build the sandbox (a
`tiktimer worker` has no YouTube sandbox: its YouTube is "not set up"), and YouTube sandbox
posts are published by the API's in-process scheduler. Persisting the state in the
database, as TikTok's `sandbox_state` does, would lift that restriction.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tiktimer.config import Settings
from tiktimer.platforms.oauth import OAuthSetup
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.connect import YouTubeOAuth
from tiktimer.platforms.youtube.emulator import (
    ChannelConfig,
    ClientConfig,
    EmulatorConfig,
    create_emulator_app,
)
from tiktimer.platforms.youtube.endpoints import GoogleEndpoints

SANDBOX_MOUNT = "/sandbox/youtube"
IN_PROCESS_BASE = "http://youtube-sandbox.internal"  # resolved by the ASGI transport only
SANDBOX_CLIENT_ID = "tiktimer-sandbox.apps.googleusercontent.com"
CONSENT_PATHS = {("GET", "/o/oauth2/v2/auth"), ("POST", "/o/oauth2/v2/auth/consent")}
# The Google accounts a newcomer can sign in as on the sandbox's consent page.
CHANNELS = (
    ChannelConfig("creator@sandbox.example", "UCsandboxcreator00000001", "Sandbox Creator"),
    ChannelConfig("second@sandbox.example", "UCsandboxcreator00000002", "Second Channel"),
)


def client_secret_for(secret_key: str) -> str:
    """The sandbox OAuth client's secret of an installation (HMAC under SECRET_KEY)."""
    message = b"tiktimer youtube sandbox client secret"
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


class ConsentOnly:
    """The emulator as the public sees it: its consent page, nothing else (404)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["method"], _path(scope)) not in CONSENT_PATHS:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def build_sandbox(settings: Settings) -> OAuthSetup:
    redirect_uri = settings.youtube.callback_url(settings.server.public_base_url)
    secret = client_secret_for(settings.auth.jwt_key)
    app = create_emulator_app(
        EmulatorConfig(
            clients=(ClientConfig(SANDBOX_CLIENT_ID, secret, (redirect_uri,), project="sandbox"),),
            channels=CHANNELS,
        )
    )
    public = f"{settings.server.public_base_url}{SANDBOX_MOUNT}"
    inside = GoogleEndpoints.at(IN_PROCESS_BASE)
    client = YouTubeClient(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=secret,
        redirect_uri=redirect_uri,
        endpoints=GoogleEndpoints(
            authorize=f"{public}/o/oauth2/v2/auth",
            token=inside.token,
            revoke=inside.revoke,
            upload=inside.upload,
            videos=inside.videos,
            channels=inside.channels,
        ),
        transport=httpx.ASGITransport(app=app),
    )
    emulator: Any = app.state.emulator
    return OAuthSetup(
        YouTubeOAuth(client, sandbox=True),
        client.aclose,
        mount=(SANDBOX_MOUNT, ConsentOnly(app)),
        emulator=emulator,
        notice="sandbox.youtube shared_state=this process's memory only",
    )
