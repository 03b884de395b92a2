"""Limits on the credential endpoints: they stop password guessing, not the account's owner.

`POST /token`:
- every attempt counts per client address, before anything else (one source cannot queue out
  real users on the hash threads);
- failures count per address and account (`TIKTIMER_RATE_LIMIT_LOGIN_USER`): the username and
  the email of one account are one account; an identifier that names no account is counted
  by its normalised text, so it behaves exactly like one that does. The count is taken before
  the password hash (a burst of concurrent guesses cannot slip past a check made after it)
  and forgotten when the login succeeds, so only failures remain;
- per account from every address (`TIKTIMER_RATE_LIMIT_LOGIN_ACCOUNT`), a hard ceiling
  against guesses spread over many addresses: attempts from addresses that have not logged in
  to the account in the last 30 days count before the hash (a burst cannot overshoot it),
  failures from known addresses after it, the owner's successes there never. An attempt that
  finds it full pauses password login for the account for `TIKTIMER_LOGIN_LOCKOUT_SECONDS`,
  for everyone, and the audit log says so, once per pause; after the pause known addresses
  get in again, others only once the ceiling has room. Below it, the owner logging in from
  an address without recent failures gets in however hard someone guesses from elsewhere.
Every check runs before the password is hashed; a refused attempt never hashes. Logins wait
for the hash threads in order of `LoginPriority` (`PriorityGate`): first addresses that logged
in to the account in the last 30 days, then addresses with no record, last addresses with
recent failures at it; during a storm the owner does not queue behind the guesses.
`POST /register` and `POST /auth/refresh` count per client address.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerSecond, parse_many
from pydantic import SecretStr

from tiktimer.config import AuthSettings
from tiktimer.errors import TooManyRequests
from tiktimer.kit.crypto import sha256_hex
from tiktimer.kit.ratelimit import RateLimiter
from tiktimer.kit.state import provided

log = logging.getLogger("tiktimer.ratelimit")

KEY_PREFIX = "tiktimer:ratelimit"
# How long a successful login makes its address a known one for the account.
KNOWN_ADDRESS = RateLimitItemPerDay(1, 30)


class LoginPriority(IntEnum):
    """Order of the turns at the password hash; lower goes first."""

    known_address = 0
    new_address = 1
    failing_address = 2


@dataclass(frozen=True, slots=True)
class Admission:
    """A login attempt let through to the hash: its turn, and whether the ceiling counted it."""

    priority: LoginPriority
    counted: bool


class AccountPaused(TooManyRequests):
    """The account's ceiling is full: password login pauses (`started`: this attempt began it)."""

    def __init__(self, retry_after: int, *, started: bool) -> None:
        super().__init__(retry_after)
        self.started = started


def account_key(user_id: int | None, identifier: str) -> str:
    """One key per account whichever identifier named it; unknown ones by normalised text.

    Normalised the way the lookup matches: emails (the only identifiers with "@") without
    case, usernames exactly. Hashed: keys stay short and no identifier is copied into Redis.
    """
    if user_id is not None:
        return f"user:{user_id}"
    normalised = identifier.lower() if "@" in identifier else identifier
    return f"name:{sha256_hex(normalised)[:32]}"


@dataclass(frozen=True)
class CredentialLimits:
    limiter: RateLimiter
    login_ip: list[RateLimitItem]
    login_user: list[RateLimitItem]
    register: list[RateLimitItem]
    refresh: list[RateLimitItem]
    login_account: list[RateLimitItem]
    lockout: RateLimitItem

    async def login(self, address: str) -> None:
        """Count one login attempt from `address` (successful ones too)."""
        await self.limiter.hit(self.login_ip, "login-ip", address)

    async def admit_login(self, address: str, account: str) -> Admission:
        """429 unless a password may be tried for `account` from `address`; counts the try.

        From an address that has not logged in to the account, the try counts against the
        account's ceiling now, so a burst of guesses cannot overshoot it; from a known address
        only a failure will count (`login_failed`), so the owner's logins never do.
        """
        await self.limiter.check_lock(self.lockout, "login-lock", account)
        fresh = await self.limiter.hit_fresh(self.login_user, "login-fail", address, account)
        if await self.limiter.locked(KNOWN_ADDRESS, "login-known", address, account):
            return Admission(LoginPriority.known_address, counted=False)
        try:
            await self.limiter.hit(self.login_account, "login-account", account)
        except TooManyRequests:
            started = await self.limiter.lock(self.lockout, "login-lock", account)
            raise AccountPaused(int(self.lockout.get_expiry()), started=started) from None
        priority = LoginPriority.new_address if fresh else LoginPriority.failing_address
        return Admission(priority, counted=True)

    async def login_failed(self, account: str, admission: Admission) -> bool:
        """Count a failure at `account` unless counted already; True if it started a pause."""
        if admission.counted:
            return False
        if await self.limiter.count(self.login_account, "login-account", account):
            return False
        return await self.limiter.lock(self.lockout, "login-lock", account)

    async def login_succeeded(self, address: str, account: str) -> None:
        """The owner got in from `address`: its failures there are forgiven, it becomes known."""
        await self.limiter.clear(self.login_user, "login-fail", address, account)
        await self.limiter.lock(KNOWN_ADDRESS, "login-known", address, account)


def build_credential_limits(
    settings: AuthSettings, redis_url: SecretStr | None, key_prefix: str = KEY_PREFIX
) -> CredentialLimits:
    """Counts in Redis when `TIKTIMER_REDIS_URL` is set (shared by all API processes)."""
    if not settings.rate_limits_enabled:
        limiter, storage = RateLimiter.off(), "off"
    elif redis_url is not None:
        limiter = RateLimiter.on_redis(redis_url.get_secret_value(), key_prefix)
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
        login_account=parse_many(settings.rate_limit_login_account),
        lockout=RateLimitItemPerSecond(1, settings.login_lockout_seconds),
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


CredentialLimitsDep = Annotated[CredentialLimits, Depends(provided(CredentialLimits))]


async def limit_login(request: Request, limits: CredentialLimitsDep) -> None:
    """429 per client address, before the account is even looked up."""
    await limits.login(client_address(request))


async def limit_register(request: Request, limits: CredentialLimitsDep) -> None:
    await limits.limiter.hit(limits.register, "register", client_address(request))


async def limit_refresh(request: Request, limits: CredentialLimitsDep) -> None:
    await limits.limiter.hit(limits.refresh, "refresh", client_address(request))
