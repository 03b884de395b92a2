"""Login, token rotation, reuse detection, logout and JWT rejection."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.fixtures.app import TEST_SECRET
from tests.fixtures.users import DEFAULT_PASSWORD, bearer, login, register


async def test_register_returns_user_without_secrets(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice")
    assert user["username"] == "alice"
    assert user["email"] == "alice@example.com"
    assert not {"password", "hashed_password", "access_token", "token_version"} & set(user)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "bob", "email": "bob@example.com", "password": "short"}, 422),
        ({"username": "bob", "email": "not-an-email", "password": DEFAULT_PASSWORD}, 422),
        ({"username": "b", "email": "bob@example.com", "password": DEFAULT_PASSWORD}, 422),
        (
            {"username": "bob", "email": "b@example.com", "password": DEFAULT_PASSWORD, "x": 1},
            422,
        ),
    ],
)
async def test_register_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, object], status: int
) -> None:
    response = await client.post("/register", json=body)
    assert response.status_code == status
    assert "detail" in response.json()
    assert DEFAULT_PASSWORD not in response.text


async def test_duplicate_username_or_email_is_400(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    dup_name = {"username": "alice", "email": "other@example.com", "password": DEFAULT_PASSWORD}
    dup_mail = {"username": "other", "email": "ALICE@example.com", "password": DEFAULT_PASSWORD}
    assert (await client.post("/register", json=dup_name)).status_code == 400
    assert (await client.post("/register", json=dup_mail)).status_code == 400


async def test_login_returns_token_pair(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    tokens = await login(client, "alice")
    assert tokens["token_type"] == "bearer"
    assert int(tokens["expires_in"]) == 30 * 60
    me = await client.get("/users/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


async def test_wrong_password_and_unknown_user_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    wrong = await client.post("/token", data={"username": "alice", "password": "nope-nope"})
    unknown = await client.post("/token", data={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_unknown_user_costs_a_password_verification(client: httpx.AsyncClient) -> None:
    """No username discovery by timing: the unknown-user path hashes too.

    Measured in this process's CPU time, which the Argon2 verification dominates, so other
    processes on a loaded machine do not blur it the way they blur wall time."""
    await register(client, "alice")

    async def duration(username: str) -> float:
        started = time.process_time()
        await client.post("/token", data={"username": username, "password": "nope-nope"})
        return time.process_time() - started

    known = min([await duration("alice") for _ in range(3)])
    unknown = min([await duration("ghost") for _ in range(3)])
    # A skipped hash would be ~100x cheaper; allow generous noise either way.
    assert unknown > known * 0.3


async def test_inactive_user_cannot_log_in(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client, "alice")
    await _make_admin(app, "root")
    admin = bearer(await login(client, "root"))
    users = (await client.get("/admin/users", headers=admin)).json()
    alice_id = next(u["id"] for u in users if u["username"] == "alice")
    await client.patch(f"/admin/users/{alice_id}", json={"is_active": False}, headers=admin)
    response = await client.post("/token", data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code in (401, 403)


async def test_refresh_rotates_and_old_token_dies(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    first = await login(client, "alice")
    second = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert (await client.get("/users/me", headers=bearer(pair))).status_code == 200


async def test_refresh_token_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    first = await login(client, "alice")
    second = (
        await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    replay = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The legitimate successor dies with its family.
    after = await client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


async def test_refresh_with_garbage_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/refresh", json={"refresh_token": "rt_nope"})
    assert response.status_code == 401


async def test_logout_invalidates_earlier_tokens(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    tokens = await login(client, "alice")
    other_session = await login(client, "alice")
    assert (await client.post("/auth/logout", headers=bearer(tokens))).status_code == 204
    for pair in (tokens, other_session):
        assert (await client.get("/users/me", headers=bearer(pair))).status_code == 401
        refresh = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert refresh.status_code == 401
    fresh = await login(client, "alice")
    assert (await client.get("/users/me", headers=bearer(fresh))).status_code == 200


def _token(claims: dict[str, object], key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(user_id: int, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "type": "access",
        "ver": 0,
    }
    claims.update(overrides)
    return claims


def _alg_none_token(claims: dict[str, object]) -> str:
    import base64
    import json

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


async def test_forged_and_odd_tokens_are_401(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice")
    uid = int(str(user["id"]))
    past = datetime.now(UTC) - timedelta(hours=1)
    cases = {
        "valid-control": _token(_claims(uid)),
        "expired": _token(_claims(uid, exp=int(past.timestamp()), iat=int(past.timestamp()) - 60)),
        "other-key": _token(_claims(uid), key="another-secret-key-0123456789abcdef0123"),
        "alg-none": _alg_none_token(_claims(uid)),
        "refresh-type": _token(_claims(uid, type="refresh")),
        "old-version": _token(_claims(uid, ver=-1)),
        "garbage": "not.a.jwt",
    }
    for name, token in cases.items():
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        expected = 200 if name == "valid-control" else 401
        assert response.status_code == expected, name
        if expected == 401:
            assert response.headers["www-authenticate"] == "Bearer", name
            assert "detail" in response.json()


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def _make_admin(app: FastAPI, username: str) -> None:
    from tiktimer.db.session import session_scope
    from tiktimer.users.schemas import UserCreate

    service = app.state.services.user_service
    async with session_scope(app.state.services.sessionmaker) as session:
        data = UserCreate(
            username=username, email=f"{username}@example.com", password=DEFAULT_PASSWORD
        )
        await service.register(session, data, is_superuser=True)
