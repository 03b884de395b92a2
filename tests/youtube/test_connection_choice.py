"""Which Google a process talks to: the sandbox only in a sandbox installation."""

from __future__ import annotations

from typing import Any

import pytest

from tiktimer.config import load_settings
from tiktimer.platforms.youtube.connection import oauth_setup, sandboxed

PRODUCTION_TIKTOK = {"client_key": "ck", "client_secret": "cs"}


@pytest.mark.parametrize(
    ("tiktok", "youtube", "expected"),
    [
        ({}, {}, True),  # a newcomer's sandbox: YouTube's too
        (PRODUCTION_TIKTOK, {}, False),  # production without Google: no pretend YouTube
        (PRODUCTION_TIKTOK, {"sandbox": True}, True),  # asked for explicitly
        ({}, {"sandbox": False}, False),
        ({}, {"client_id": "gid", "client_secret": "gs"}, False),  # a real Google client
    ],
)
def test_the_youtube_sandbox_only_where_the_installation_is_one(
    tiktok: dict[str, Any], youtube: dict[str, Any], expected: bool
) -> None:
    settings = load_settings(_env_file=None, tiktok=tiktok, youtube=youtube)
    assert sandboxed(settings) is expected


def test_production_without_google_credentials_offers_no_youtube() -> None:
    settings = load_settings(_env_file=None, tiktok=PRODUCTION_TIKTOK)
    assert oauth_setup(settings, "api") is None
