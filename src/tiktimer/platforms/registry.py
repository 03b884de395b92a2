"""Every platform TikTimer can publish to, by the name stored in `social_accounts.platform`.

Adding a platform is one subpackage with a `plugin` module (`spec = PlatformSpec(…)`) plus
one line below. A platform marked `sandbox_only` exists only in sandbox mode (no TikTok
credentials), for tests and benchmarks; a production process never imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tiktimer.config import Settings
from tiktimer.errors import Unprocessable
from tiktimer.platforms.contract import Pacer, Platform
from tiktimer.platforms.oauth import OAuthFactory, OAuthSetup, Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from tiktimer.platforms.tokens import TokenSource
    from tiktimer.storage import Storage


@dataclass(frozen=True, slots=True)
class Registration:
    module: str  # a module with `spec: PlatformSpec`
    sandbox_only: bool = False


REGISTERED: Mapping[str, Registration] = {
    "tiktok": Registration("tiktimer.platforms.tiktok.plugin"),
    "youtube": Registration("tiktimer.platforms.youtube.plugin"),
    "fake": Registration("tiktimer.platforms.fake.plugin", sandbox_only=True),
}


T = TypeVar("T")


class SharedParts:
    """Parts the wiring built once and shares with a platform, found by their type.

    TikTok's client and creator_info cache also serve the accounts package and the composer,
    so the wiring builds them and the TikTok plugin asks for `TikTokParts`; a platform that
    needs nothing shared never looks here, and the registry never names a platform's types.
    """

    def __init__(self, *parts: object) -> None:
        self._parts = {type(part): part for part in parts}

    def get(self, kind: type[T]) -> T:
        part = self._parts.get(kind)
        if part is None:
            raise LookupError(f"no shared {kind.__name__} was built for the platforms")
        return part  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class PlatformParts:
    """What a platform may be built from: this process's shared services."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    tokens: TokenSource
    storage: Storage
    pacer: Pacer
    shared: SharedParts  # what the wiring built for a platform and shares (TikTok's client)


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    name: str
    rate_buckets: Callable[[Settings], dict[str, int]]  # known before the pacer exists
    build: Callable[[PlatformParts], Platform]
    # How accounts connect and refresh this platform's accounts (None: the platform has its
    # own flow, as TikTok's original routes, or needs none).
    oauth: OAuthFactory | None = None


class UnknownPlatform(Unprocessable):
    def __init__(self, name: str) -> None:
        super().__init__(f"TikTimer cannot publish to the platform {name!r}.")
        self.name = name


def available(settings: Settings) -> dict[str, PlatformSpec]:
    """The platforms this process may use, in registry order."""
    specs: dict[str, PlatformSpec] = {}
    for name, registration in REGISTERED.items():
        if registration.sandbox_only and not settings.tiktok.sandbox_enabled:
            continue
        spec: PlatformSpec = importlib.import_module(registration.module).spec
        if spec.name != name:
            raise ValueError(f"{registration.module} registers {spec.name!r}, not {name!r}")
        specs[name] = spec
    return specs


def oauth_setups(settings: Settings, role: Role) -> dict[str, OAuthSetup]:
    """Each available platform's OAuth for this process, when it has one and is set up."""
    setups: dict[str, OAuthSetup] = {}
    for name, spec in available(settings).items():
        setup = spec.oauth(settings, role) if spec.oauth is not None else None
        if setup is not None:
            setups[name] = setup
    return setups


def rate_buckets(settings: Settings) -> dict[str, int]:
    """Every available platform's buckets (bucket names must not collide)."""
    buckets: dict[str, int] = {}
    for spec in available(settings).values():
        own = spec.rate_buckets(settings)
        if taken := buckets.keys() & own.keys():
            raise ValueError(f"platform {spec.name!r} reuses rate buckets {sorted(taken)}")
        buckets |= own
    return buckets


class Platforms:
    """The platforms of one process, built once; the scheduler asks it by name."""

    def __init__(self, platforms: Mapping[str, Platform]) -> None:
        self._platforms = dict(platforms)

    @classmethod
    def build(cls, parts: PlatformParts) -> Platforms:
        specs = available(parts.settings)
        return cls({name: spec.build(parts) for name, spec in specs.items()})

    def get(self, name: str) -> Platform:
        platform = self._platforms.get(name)
        if platform is None:
            raise UnknownPlatform(name)
        return platform

    def names(self) -> tuple[str, ...]:
        return tuple(self._platforms)
