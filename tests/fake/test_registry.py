"""`fake` exists in sandbox mode only: a production process never builds or imports it."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.app import make_settings
from tiktimer.platforms import registry


def test_fake_is_registered_in_sandbox_mode_only(tmp_path: Path) -> None:
    sandbox = make_settings("sqlite+aiosqlite://", tmp_path)
    production = make_settings(
        "sqlite+aiosqlite://",
        tmp_path,
        tiktok_client_key="awproductionkey",
        tiktok_client_secret="production-client-secret",
        tiktok_sandbox=False,
    )

    assert list(registry.available(sandbox)) == ["tiktok", "youtube", "fake"]
    assert list(registry.available(production)) == ["tiktok", "youtube"]
    assert "fake_publish" in registry.rate_buckets(sandbox)
    assert "fake_publish" not in registry.rate_buckets(production)
