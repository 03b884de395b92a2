"""Profile changes and administration."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.api.test_auth import _make_admin
from tests.fixtures.users import DEFAULT_PASSWORD, bearer, login, register


async def test_patch_me_email_and_timezone(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    headers = bearer(await login(client, "alice"))
    response = await client.patch(
        "/users/me",
        json={"email": "new@example.com", "timezone": "America/New_York"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    assert response.json()["timezone"] == "America/New_York"
    bad = await client.patch("/users/me", json={"timezone": "Mars/Olympus"}, headers=headers)
    assert bad.status_code == 422


async def test_password_change_needs_current_password_and_ends_other_sessions(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "alice")
    tokens = await login(client, "alice")
    other = await login(client, "alice")
    wrong = await client.patch(
        "/users/me",
        json={"password": "brand new password", "current_password": "wrong-one"},
        headers=bearer(tokens),
    )
    assert wrong.status_code == 401
    changed = await client.patch(
        "/users/me",
        json={"password": "brand new password", "current_password": DEFAULT_PASSWORD},
        headers=bearer(tokens),
    )
    assert changed.status_code == 200
    assert (await client.get("/users/me", headers=bearer(other))).status_code == 401
    old = await client.post("/token", data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert old.status_code == 401
    assert (await login(client, "alice", "brand new password"))["access_token"]


async def test_admin_endpoints_need_admin(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client, "alice")
    headers = bearer(await login(client, "alice"))
    response = await client.get("/admin/users", headers=headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin privileges required"}
    assert (await client.patch("/admin/users/1", json={}, headers=headers)).status_code == 403


async def test_admin_can_deactivate_and_grant(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    alice_tokens = await login(client, "alice")
    await _make_admin(app, "root")
    admin = bearer(await login(client, "root"))
    listing = await client.get("/admin/users", headers=admin)
    assert listing.status_code == 200
    assert listing.headers["x-total-count"] == "2"
    url = f"/admin/users/{alice['id']}"
    off = await client.patch(url, json={"is_active": False}, headers=admin)
    assert off.json()["is_active"] is False
    assert (await client.get("/users/me", headers=bearer(alice_tokens))).status_code == 401
    on = await client.patch(url, json={"is_active": True, "is_superuser": True}, headers=admin)
    assert on.json()["is_active"] is True
    assert on.json()["is_superuser"] is True
    assert (
        await client.get("/admin/users", headers=bearer(await login(client, "alice")))
    ).is_success
    assert (await client.patch("/admin/users/99999", json={}, headers=admin)).status_code == 404
