"""Limits on the credential endpoints, against password guessing and floods of slow hashes.

`POST /token` counts every attempt twice, before the password is hashed: per client address
(one source cannot queue out real users on the hash threads) and per submitted username,
lower-cased (guesses at one account spread over many addresses). Successful logins count
too: counting only failures needs a check before the hash and a count after it, which a
burst of concurrent guesses passes all at once, and `limits` cannot take a count back. A
real user does not log in five times a minute; scripts keep their refresh token.
`POST /register` and `POST /auth/refresh` count per client address.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from limits import RateLimitItem, parse_many

from tiktimer.config import Settings
from tiktimer.kit.crypto import sha256_hex
from tiktimer.kit.ratelimit import RateLimiter
from tiktimer.kit.state import from_state

log = logging.getLogger("tiktimer.ratelimit")

KEY_PREFIX = "tiktimer:ratelimit"


@dataclass(frozen=True)
class CredentialLimits:
    limiter: RateLimiter
    login_ip: list[RateLimitItem]
    login_user: list[RateLimitItem]
    register: list[RateLimitItem]
    refresh: list[RateLimitItem]

    async def login(self, address: str, username: str) -> None:
        await self.limiter.hit(self.login_ip, "login-ip", address)
        # Hashed: keys stay short, and usernames or emails are not copied into Redis.
        await self.limiter.hit(self.login_user, "login-user", sha256_hex(username.lower()))


def build_credential_limits(settings: Settings, key_prefix: str = KEY_PREFIX) -> CredentialLimits:
    """Counts in Redis when `TIKTIMER_REDIS_URL` is set (shared by all API processes)."""
    if not settings.rate_limits_enabled:
        limiter, storage = RateLimiter.off(), "off"
    elif settings.redis_url is not None:
        limiter = RateLimiter.on_redis(settings.redis_url.get_secret_value(), key_prefix)
        storage = "redis"
    else:
        limiter, storage = RateLimiter.in_memory(), "memory"
    log.info("ratelimit.credentials storage=%s", storage)
    return CredentialLimits(
        limiter,
        login_ip=parse_many(settings.rate_limit_login_ip),
        login_user=parse_many(settings.rate_limit_login_user),
        register=parse_many(settings.rate_limit_register),
        refresh=parse_many(settings.rate_limit_refresh),
    )


def client_address(request: Request) -> str:
    """The peer address (uvicorn has applied trusted proxies); IPv6 by its /64 block."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One subscriber usually holds a whole /64: counting single addresses would let them
        # rotate through 2^64 of them.
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


CredentialLimitsDep = Annotated[CredentialLimits, Depends(from_state("credential_limits"))]


async def limit_login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    limits: CredentialLimitsDep,
) -> None:
    """429 before the password is hashed, per client address and per username."""
    await limits.login(client_address(request), form.username)


async def limit_register(request: Request, limits: CredentialLimitsDep) -> None:
    await limits.limiter.hit(limits.register, "register", client_address(request))


async def limit_refresh(request: Request, limits: CredentialLimitsDep) -> None:
    await limits.limiter.hit(limits.refresh, "refresh", client_address(request))
