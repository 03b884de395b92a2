"""Everything the emulator can be told: apps, accounts, lifetimes and limits (one place).

Defaults follow the reference (shared/instagram-api.md); where Meta's pages conflict the
stricter value is the default and the other is one setting away (the publishing cap:
50 per the endpoint reference, 100 per the guide).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import httpx

DAY = 86_400.0


class AccountType(enum.StrEnum):
    BUSINESS = "BUSINESS"
    CREATOR = "MEDIA_CREATOR"
    PERSONAL = "PERSONAL"


class ExchangeShape(enum.StrEnum):
    """The code exchange's body: flat or wrapped in `data[]` (§2.2, UNCONFIRMED: both)."""

    FLAT = "flat"
    DATA = "data"


@dataclass(frozen=True)
class AppConfig:
    app_id: str
    app_secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class AccountSettings:
    username: str
    account_type: AccountType = AccountType.BUSINESS


@dataclass(frozen=True)
class EmulatorConfig:
    apps: tuple[AppConfig, ...] = ()
    accounts: tuple[AccountSettings, ...] = ()
    versions: tuple[str, ...] = ("v24.0", "v25.0", "v27.0")
    code_seconds: float = 3600.0  # §2.2: valid for 1 hour, once
    short_token_seconds: float = 3600.0  # §2.2
    long_token_seconds: float = 60 * DAY  # §2.3: 5,184,000 s
    refresh_min_age_seconds: float = DAY  # §2.3: at least 24 hours old
    refresh_revokes_old: bool = True  # strict: the replaced token stops working (UNCONFIRMED)
    exchange_shape: ExchangeShape = ExchangeShape.FLAT
    container_seconds: float = DAY  # §4.2: containers expire after 24 hours
    containers_per_day: int = 400  # §4.2
    processing_seconds: float = 30.0  # §13.10: unpublished; tests set what they need
    publish_cap: int = 50  # §7.1: the endpoint reference's value (the guide says 100)
    publish_window_seconds: float = DAY
    expired_publish_subcode: int = 2207008  # §11: 24/2207008 or -2/2207020
    calls_per_hour: int = 4800  # §7.2: BUC calls per app-user pair (per hour here)
    # §4.4: M-rup offers rupload to Facebook Login apps only; on, it works with Instagram
    # Login tokens too (UNCONFIRMED either way).
    rupload_with_instagram_login: bool = False
    fetch_timeout_seconds: float = 10.0
    # Only loopback URLs are fetched (never the internet); registered bytes come first.
    fetch_transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)
    max_recorded_requests: int = 1000

    def app(self, app_id: str) -> AppConfig | None:
        return next((app for app in self.apps if app.app_id == app_id), None)
