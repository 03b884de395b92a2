"""Fixtures for the TikTok emulator tests: a fresh emulator and client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.emulator.flows import TikTok, serve


@pytest.fixture
async def tiktok() -> AsyncIterator[TikTok]:
    async with serve() as tiktok:
        yield tiktok
