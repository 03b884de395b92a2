"""Which Google this process talks to: the configured OAuth client, or the sandbox.

The registry calls `oauth_setup` (the spec's `oauth=`) once per process; the sandbox module
(and so the emulator) is imported only when the sandbox is on.
"""

from __future__ import annotations

import logging

from tiktimer.config import Settings
from tiktimer.platforms.oauth import OAuthSetup, Role
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.connect import YouTubeOAuth

log = logging.getLogger("tiktimer.platforms.youtube")


def sandboxed(settings: Settings) -> bool:
    """The YouTube sandbox stands in for Google when asked for (TIKTIMER_YOUTUBE_SANDBOX),
    or when no Google client is set in an installation that is a sandbox already (TikTok's
    sandbox on). A production installation without Google credentials has no YouTube to
    connect, rather than a pretend one."""
    youtube = settings.youtube
    if youtube.sandbox is not None:
        return youtube.sandbox
    return not youtube.client_id and settings.tiktok.sandbox_enabled


def oauth_setup(settings: Settings, role: Role) -> OAuthSetup | None:
    youtube = settings.youtube
    if not sandboxed(settings):
        if not youtube.client_id or youtube.client_secret is None:
            return None  # listed, but "not set up": nothing to connect or publish with
        client = YouTubeClient(
            client_id=youtube.client_id,
            client_secret=youtube.client_secret.get_secret_value(),
            redirect_uri=youtube.callback_url(settings.server.public_base_url),
        )
        return OAuthSetup(YouTubeOAuth(client, sandbox=False), client.aclose)
    if role == "worker":
        # The sandbox's state is the API process's memory: a worker cannot reach it.
        log.warning("sandbox.youtube role=worker: YouTube sandbox posts publish in the API")
        return None
    from tiktimer.platforms.youtube.sandbox import build_sandbox

    return build_sandbox(settings)
