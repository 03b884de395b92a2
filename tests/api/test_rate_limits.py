"""Rate limits on `/token`, `/register` and `/auth/refresh`, through HTTP.

The shared app runs with limits off (tests/fixtures/app.py); `enable_limits` swaps in limits
built by the same function the lifespan uses, from the app's settings plus overrides.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio
from fastapi import FastAPI
from limits import parse_many
from pydantic import SecretStr

from tests.fixtures.app import TEST_BASE_URL
from tests.fixtures.server import free_port
from tests.fixtures.users import DEFAULT_PASSWORD, login, register
from tiktimer.auth.ratelimits import KEY_PREFIX, CredentialLimits, build_credential_limits
from tiktimer.config import SettingsError, load_settings

REDIS_URL = os.environ.get("TIKTIMER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_PREFIX = f"tiktimer-test-{uuid.uuid4().hex[:12]}"

EnableLimits = Callable[..., CredentialLimits]


@pytest.fixture
async def enable_limits(app: FastAPI) -> AsyncIterator[EnableLimits]:
    original = app.state.services.credential_limits
    built: list[CredentialLimits] = []

    def enable(key_prefix: str = KEY_PREFIX, **overrides: Any) -> CredentialLimits:
        settings = app.state.services.settings
        redis_url = overrides.pop("redis_url", settings.scheduler.redis_url)
        auth = settings.auth.model_copy(update={"rate_limits_enabled": True, **overrides})
        limits = build_credential_limits(auth, redis_url, key_prefix=key_prefix)
        built.append(limits)
        app.state.services.credential_limits = limits
        return limits

    yield enable
    app.state.services.credential_limits = original
    for limits in built:
        await limits.limiter.aclose()


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from another address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=TEST_BASE_URL) as client:
        yield client


async def try_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/token", data={"username": username, "password": password})


def assert_limited(response: httpx.Response, window_seconds: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert isinstance(response.json()["detail"], str)
    assert 1 <= int(response.headers["Retry-After"]) <= window_seconds


async def test_login_per_address_counts_successful_logins_too(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    enable_limits(rate_limit_login_ip="3/minute", rate_limit_login_user="100/minute")
    await register(client, "alice")
    await login(client, "alice")
    assert (await try_login(client, "alice", "wrong-password")).status_code == 401
    await login(client, "alice")
    assert_limited(await try_login(client, "alice", DEFAULT_PASSWORD))
    async with client_from(app, "203.0.113.7") as elsewhere:
        await login(elsewhere, "alice")


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Overrides for `enable_limits` counting in this process or in a fresh Redis prefix."""
    if request.param == "memory":
        yield {}
        return
    await _require_redis()
    prefix = f"{RUN_PREFIX}-{uuid.uuid4().hex[:8]}"
    try:
        yield {"key_prefix": prefix, "redis_url": SecretStr(REDIS_URL)}
    finally:
        await _delete_keys(prefix)


async def test_username_and_email_are_one_account(
    client: httpx.AsyncClient, enable_limits: EnableLimits, storage: dict[str, Any]
) -> None:
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="3/minute", **storage)
    await register(client, "alice")
    assert (await try_login(client, "alice", "wrong-password")).status_code == 401
    assert (await try_login(client, "alice@example.com", "wrong-password")).status_code == 401
    assert (await try_login(client, "ALICE@example.COM", "wrong-password")).status_code == 401
    assert_limited(await try_login(client, "alice", DEFAULT_PASSWORD))
    assert_limited(await try_login(client, "alice@example.com", DEFAULT_PASSWORD))


async def test_owner_gets_in_from_a_clean_address_while_another_guesses(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits, storage: dict[str, Any]
) -> None:
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="2/minute", **storage)
    await register(client, "alice")
    async with client_from(app, "203.0.113.66") as attacker:
        for _ in range(2):
            assert (await try_login(attacker, "alice", "wrong-password")).status_code == 401
        assert_limited(await try_login(attacker, "alice", "another-guess"))
        # Even the right password is refused from there, so guessing cannot continue.
        assert_limited(await try_login(attacker, "alice", DEFAULT_PASSWORD))
    async with client_from(app, "198.51.100.7") as owner:
        await login(owner, "alice")
        await login(owner, "alice@example.com")


async def test_successful_logins_are_not_counted_as_failures(
    client: httpx.AsyncClient, enable_limits: EnableLimits, storage: dict[str, Any]
) -> None:
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="2/minute", **storage)
    await register(client, "alice")
    for _ in range(5):
        await login(client, "alice")
    # A success forgives this address's earlier failures at the account.
    assert (await try_login(client, "alice", "wrong-password")).status_code == 401
    await login(client, "alice")
    assert (await try_login(client, "alice", "wrong-password")).status_code == 401
    assert (await try_login(client, "alice", "wrong-password")).status_code == 401
    assert_limited(await try_login(client, "alice", DEFAULT_PASSWORD))


async def test_unknown_identifiers_are_limited_exactly_like_accounts(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    """The answers for a username (or email) that exists and one that does not are the same.

    (Mixing a username and an email shows whether the two name one account: that needs both.)
    """
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="2/minute")
    await register(client, "alice")

    async def statuses(address: str, *tries: str) -> list[int]:
        async with client_from(app, address) as guesser:
            return [(await try_login(guesser, who, "wrong")).status_code for who in tries]

    by_name = ["alice", "ALICE", "alice", "alice", "ALICE", "ALICE"]
    assert await statuses("192.0.2.1", *by_name) == [401, 401, 401, 429, 401, 429]
    assert await statuses("192.0.2.2", *[n.replace("alice", "ghost") for n in by_name]) == [
        401,
        401,
        401,
        429,
        401,
        429,
    ]
    known_emails = ["alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"]
    assert await statuses("192.0.2.3", *known_emails) == [401, 401, 429]
    unknown_emails = ["ghost@example.com", "GHOST@EXAMPLE.COM", "Ghost@Example.com"]
    assert await statuses("192.0.2.4", *unknown_emails) == [401, 401, 429]


async def test_account_ceiling_pauses_password_login_and_is_audited_once(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits, storage: dict[str, Any]
) -> None:
    enable_limits(
        rate_limit_login_ip="100/minute",
        rate_limit_login_user="100/minute",
        rate_limit_login_account="4/hour",
        login_lockout_seconds=60,
        **storage,
    )
    alice = await register(client, "alice")
    await register(client, "bob")
    for n in range(4):  # spread over addresses: no single address is limited
        async with client_from(app, f"203.0.113.{n + 1}") as attacker:
            assert (await try_login(attacker, "alice", "wrong-password")).status_code == 401
    async with client_from(app, "203.0.113.5") as attacker:
        assert_limited(await try_login(attacker, "alice", "fifth-guess"), window_seconds=60)
    async with client_from(app, "198.51.100.7") as owner:
        assert_limited(await try_login(owner, "alice", DEFAULT_PASSWORD), window_seconds=60)
        assert_limited(await try_login(owner, "alice@example.com", DEFAULT_PASSWORD))
        await login(owner, "bob")  # other accounts are not affected
    for n in range(3):
        async with client_from(app, f"203.0.113.{n + 10}") as attacker:
            assert_limited(await try_login(attacker, "alice", "wrong-password"))
    await app.state.services.audit.flush()
    lockouts = await _audit_rows(app, "auth.lockout")
    assert len(lockouts) == 1
    assert lockouts[0]["subject"] == f"user:{alice['id']}"
    assert lockouts[0]["outcome"] == "blocked"
    assert lockouts[0]["detail"] == {"seconds": 60}
    assert len(await _audit_rows(app, "auth.login", outcome="failure")) == 4


async def test_a_burst_of_guesses_cannot_overshoot_the_ceiling(
    app: FastAPI,
    client: httpx.AsyncClient,
    enable_limits: EnableLimits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guesses from many addresses at once: no more are hashed than the ceiling allows."""
    verified = _count_hashes(app, monkeypatch)
    enable_limits(rate_limit_login_user="100/minute", rate_limit_login_account="5/hour")
    await register(client, "alice")

    async def guess(n: int) -> int:
        async with client_from(app, f"10.0.0.{n + 1}") as attacker:
            return (await try_login(attacker, "alice", f"guess-{n}")).status_code

    answers = await asyncio.gather(*(guess(n) for n in range(20)))
    assert sorted(answers) == [401] * 5 + [429] * 15
    assert len(verified) == 5
    await app.state.services.audit.flush()
    assert len(await _audit_rows(app, "auth.lockout")) == 1


async def test_the_owners_known_address_gets_in_after_the_pause(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits, storage: dict[str, Any]
) -> None:
    enable_limits(
        rate_limit_login_user="100/minute",
        rate_limit_login_account="3/hour",
        login_lockout_seconds=1,
        **storage,
    )
    await register(client, "alice")
    async with client_from(app, "198.51.100.7") as owner:
        # The first login from a new address counts against the ceiling; once the address
        # is known, logins from it never do.
        for _ in range(3):
            await login(owner, "alice")
    async with client_from(app, "203.0.113.1") as attacker:
        for _ in range(2):
            assert (await try_login(attacker, "alice", "wrong-password")).status_code == 401
        assert_limited(await try_login(attacker, "alice", "third"), window_seconds=1)
    async with client_from(app, "198.51.100.7") as owner:
        assert_limited(await try_login(owner, "alice", DEFAULT_PASSWORD), window_seconds=1)
        await asyncio.sleep(1.2)
        await login(owner, "alice")  # the pause is over; the ceiling is still full
    async with client_from(app, "192.0.2.50") as stranger:
        # An address that never logged in still meets the full ceiling: a new pause begins.
        assert_limited(await try_login(stranger, "alice", DEFAULT_PASSWORD), window_seconds=1)
    async with client_from(app, "198.51.100.7") as owner:
        assert_limited(await try_login(owner, "alice", DEFAULT_PASSWORD), window_seconds=1)
    await app.state.services.audit.flush()
    assert len(await _audit_rows(app, "auth.lockout")) == 2


def _count_hashes(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the hash threads verify, in order."""
    passwords = app.state.services.auth_service.passwords
    verify = passwords.verify
    verified: list[str] = []

    async def counting_verify(hashed: str | None, password: str) -> bool:
        verified.append(password)
        result: bool = await verify(hashed, password)
        return result

    monkeypatch.setattr(passwords, "verify", counting_verify)
    return verified


async def test_concurrent_guesses_from_one_address_cannot_overshoot(
    app: FastAPI,
    client: httpx.AsyncClient,
    enable_limits: EnableLimits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The per-address count is taken before the hash: a burst is cut at the limit."""
    verified = _count_hashes(app, monkeypatch)
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="3/minute")
    await register(client, "alice")
    burst = await asyncio.gather(*(try_login(client, "alice", f"guess-{n}") for n in range(12)))
    assert sorted(r.status_code for r in burst) == [401] * 3 + [429] * 9
    assert len(verified) == 3


@pytest.mark.parametrize("attackers_failed_before", [True, False])
async def test_the_owner_is_hashed_ahead_of_queued_guesses(
    app: FastAPI,
    client: httpx.AsyncClient,
    enable_limits: EnableLimits,
    monkeypatch: pytest.MonkeyPatch,
    attackers_failed_before: bool,
) -> None:
    """Guesses wait behind a login from an address that got in before (or has no failures).

    With failures on record the guesses come last; from fresh addresses (a botnet) they
    still wait behind the owner's usual address.
    """
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="100/minute")
    await register(client, "alice")
    attackers = [f"203.0.113.{n + 1}" for n in range(8)]
    owner_address = "198.51.100.7"
    if attackers_failed_before:
        for address in attackers:
            async with client_from(app, address) as attacker:
                assert (await try_login(attacker, "alice", "first-guess")).status_code == 401
    else:
        async with client_from(app, owner_address) as browser:
            await login(browser, "alice")  # the owner's usual address is now a known one
    verified = _count_hashes(app, monkeypatch)

    async def guess(address: str) -> int:
        async with client_from(app, address) as attacker:
            return (await try_login(attacker, "alice", f"guess-from-{address}")).status_code

    async def owner() -> int:
        async with client_from(app, owner_address) as browser:
            return (await try_login(browser, "alice", DEFAULT_PASSWORD)).status_code

    guessing = [asyncio.create_task(guess(a)) for a in attackers]
    while not verified:  # the guesses are queued at the hash: now the owner comes
        await asyncio.sleep(0.001)
    mine = await owner()
    assert mine == 200
    assert await asyncio.gather(*guessing) == [401] * len(attackers)
    assert verified.index(DEFAULT_PASSWORD) <= 1  # at most the guess already hashing


async def _audit_rows(app: FastAPI, event: str, outcome: str | None = None) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from tiktimer.models import AuditEvent

    query = select(AuditEvent).where(AuditEvent.event == event)
    if outcome is not None:
        query = query.where(AuditEvent.outcome == outcome)
    async with app.state.services.sessionmaker() as session:
        rows = (await session.execute(query)).scalars()
        return [
            {"subject": r.subject, "outcome": r.outcome, "detail": r.detail, "address": r.address}
            for r in rows
        ]


async def test_limited_login_is_refused_before_the_password_hash(
    app: FastAPI,
    client: httpx.AsyncClient,
    enable_limits: EnableLimits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = app.state.services.auth_service.passwords
    verify = passwords.verify
    verified: list[str] = []

    async def counting_verify(hashed: str | None, password: str) -> bool:
        verified.append(password)
        result: bool = await verify(hashed, password)
        return result

    monkeypatch.setattr(passwords, "verify", counting_verify)
    enable_limits(rate_limit_login_ip="1/minute")
    assert (await try_login(client, "ghost", "first-guess")).status_code == 401
    assert_limited(await try_login(client, "ghost", "second-guess"))
    assert verified == ["first-guess"]


async def test_register_is_limited_per_address(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    enable_limits(rate_limit_register="2/hour")
    await register(client, "alice")
    await register(client, "bob")
    body = {"username": "carol", "email": "carol@example.com", "password": DEFAULT_PASSWORD}
    assert_limited(await client.post("/register", json=body), window_seconds=3600)
    async with client_from(app, "2001:db8::1") as elsewhere:
        await register(elsewhere, "carol")
    async with client_from(app, "2001:db8::2") as same_block:
        body["username"], body["email"] = "dave", "dave@example.com"
        assert (await same_block.post("/register", json=body)).status_code == 200
        body["username"], body["email"] = "erin", "erin@example.com"
        assert_limited(await same_block.post("/register", json=body), window_seconds=3600)


async def test_refresh_is_limited_per_address(
    client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    enable_limits(rate_limit_refresh="1/minute")
    await register(client, "alice")
    tokens = await login(client, "alice")
    first = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    again = {"refresh_token": first.json()["refresh_token"]}
    assert_limited(await client.post("/auth/refresh", json=again))


async def test_switch_turns_every_limit_off(
    client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    enable_limits(rate_limits_enabled=False, rate_limit_login_ip="1/minute")
    for _ in range(3):
        assert (await try_login(client, "ghost", "wrong-password")).status_code == 401


async def _require_redis() -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis unreachable ({type(exc).__name__}); CI requires it")
        pytest.skip(f"Redis unreachable: {type(exc).__name__}")
    finally:
        await client.aclose()


async def _delete_keys(prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


async def test_redis_limits_are_shared_by_api_processes(
    client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    await _require_redis()
    prefix = f"{RUN_PREFIX}-{uuid.uuid4().hex[:8]}"
    overrides = {"redis_url": SecretStr(REDIS_URL), "rate_limit_login_ip": "2/minute"}
    try:
        enable_limits(key_prefix=prefix, **overrides)  # the first process
        for _ in range(2):
            assert (await try_login(client, "ghost", "wrong-password")).status_code == 401
        enable_limits(key_prefix=prefix, **overrides)  # a second one, sharing the counts
        assert_limited(await try_login(client, "ghost", "wrong-password"))
    finally:
        await _delete_keys(prefix)


async def test_unreachable_redis_lets_requests_through(
    client: httpx.AsyncClient, enable_limits: EnableLimits, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    url = f"redis://:hunter2-redis-password@127.0.0.1:{port}/0"
    enable_limits(redis_url=SecretStr(url), rate_limit_login_ip="1/minute")
    with caplog.at_level(logging.INFO, logger="tiktimer.ratelimit"):
        for _ in range(3):
            assert (await try_login(client, "ghost", "wrong-password")).status_code == 401
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split()[0] for r in warnings] == ["ratelimit.storage_unavailable"]
    assert "hunter2" not in caplog.text
    assert str(port) not in caplog.text


def test_defaults_are_on_and_valid() -> None:
    settings = load_settings(_env_file=None)
    assert settings.auth.rate_limits_enabled
    for value in (
        settings.auth.rate_limit_login_ip,
        settings.auth.rate_limit_login_user,
        settings.auth.rate_limit_login_account,
        settings.auth.rate_limit_register,
        settings.auth.rate_limit_refresh,
    ):
        assert parse_many(value)


@pytest.mark.parametrize("value", ["ten per minute", "10/fortnight", "0/minute", ""])
def test_unparsable_limit_fails_fast_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTIMER_RATE_LIMIT_LOGIN_USER", value)
    with pytest.raises(SettingsError, match=r"^Invalid setting TIKTIMER_RATE_LIMIT_LOGIN_USER: "):
        load_settings(_env_file=None)
