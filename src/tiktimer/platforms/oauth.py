"""What a platform contributes to connecting accounts, without importing `accounts`.

`accounts` owns the flow's state (bound to the user, PKCE verifier encrypted, single use,
ten minutes), the tokens at rest and the refresh lease; a platform owns only its protocol:
the consent URL, the code exchange (tokens and the profile), a refresh and a revoke. A
`PlatformSpec` offers an `OAuthSetup` for a process (`oauth=`), which may also carry a
sandbox's public pages for the app to mount.

    GrantRevoked   the platform refused the refresh for good (invalid_grant):
                   the account needs its owner (accounts marks it reauth_required)
    any other      transient or misconfigured: the refresh failed this time
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Role = Literal["api", "worker"]


class GrantRevoked(Exception):
    """The platform no longer accepts the account's grant (expired or revoked)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the platform refused the grant ({code})")
        self.code = code


class ExchangeRefused(Exception):
    """The platform refused the authorization code (or the profile read after it)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the platform refused the connection ({code})")
        self.code = code


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    access_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...] = ()
    refresh_token: str | None = field(default=None, repr=False)  # None: keep the stored one
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OAuthProfile:
    open_id: str  # the platform's stable id of the account (a YouTube channel id)
    display_name: str | None = None
    username: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthConnection:
    tokens: OAuthTokens
    profile: OAuthProfile


class OAuthProvider(Protocol):
    """One platform's OAuth 2.0 (authorization code with PKCE), as accounts calls it."""

    name: str  # the registry name, stored in social_accounts.platform
    title: str
    redirect_uri: str  # also binds a state to its platform (oauth_states.redirect_uri)
    sandbox: bool

    def authorization_url(self, *, state: str, code_verifier: str) -> str: ...

    async def exchange(self, code: str, code_verifier: str) -> OAuthConnection: ...

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        """Raise `GrantRevoked` when the grant is gone for good."""
        ...

    async def revoke(self, token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class OAuthSetup:
    """A platform's OAuth for one process, and what the app mounts for it (a sandbox)."""

    provider: OAuthProvider
    close: Callable[[], Awaitable[None]]
    mount: tuple[str, Any] | None = None  # (path, ASGI app): public pages of a sandbox
    emulator: Any = None  # the sandbox's emulator, for tests and tools
    # A line for the operator, logged when the process starts (not when the app is built,
    # before the server's own start line)
    notice: str | None = None


OAuthFactory = Callable[[Any, Role], "OAuthSetup | None"]
"""(settings, role) → the platform's OAuth for this process, or None (not set up)."""
