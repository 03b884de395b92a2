"""Rate limits on `/token`, `/register` and `/auth/refresh`, through HTTP.

The shared app runs with limits off (tests/fixtures/app.py); `enable_limits` swaps in limits
built by the same function the lifespan uses, from the app's settings plus overrides.
"""

from __future__ import annotations

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
    original = app.state.credential_limits
    built: list[CredentialLimits] = []

    def enable(key_prefix: str = KEY_PREFIX, **overrides: Any) -> CredentialLimits:
        settings = app.state.settings.model_copy(update={"rate_limits_enabled": True, **overrides})
        limits = build_credential_limits(settings, key_prefix=key_prefix)
        built.append(limits)
        app.state.credential_limits = limits
        return limits

    yield enable
    app.state.credential_limits = original
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


async def test_login_per_username_across_addresses(
    app: FastAPI, client: httpx.AsyncClient, enable_limits: EnableLimits
) -> None:
    enable_limits(rate_limit_login_ip="100/minute", rate_limit_login_user="2/minute")
    await register(client, "alice")
    for _ in range(2):
        assert (await try_login(client, "alice", "wrong-password")).status_code == 401
    async with client_from(app, "203.0.113.7") as elsewhere:
        assert_limited(await try_login(elsewhere, "ALICE", DEFAULT_PASSWORD))
        assert (await try_login(elsewhere, "bob", "wrong-password")).status_code == 401


async def test_limited_login_is_refused_before_the_password_hash(
    app: FastAPI,
    client: httpx.AsyncClient,
    enable_limits: EnableLimits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = app.state.auth_service.passwords
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
    assert settings.rate_limits_enabled
    for value in (
        settings.rate_limit_login_ip,
        settings.rate_limit_login_user,
        settings.rate_limit_register,
        settings.rate_limit_refresh,
    ):
        assert parse_many(value)


@pytest.mark.parametrize("value", ["ten per minute", "10/fortnight", "0/minute", ""])
def test_unparsable_limit_fails_fast_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTIMER_RATE_LIMIT_LOGIN_USER", value)
    with pytest.raises(SettingsError, match=r"^Invalid setting TIKTIMER_RATE_LIMIT_LOGIN_USER: "):
        load_settings(_env_file=None)
