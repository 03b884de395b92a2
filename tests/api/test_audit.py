"""The audit log through HTTP: what is recorded, `GET /admin/audit`, and what is never stored."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from tests.api.test_auth import _make_admin
from tests.fixtures.server import free_port
from tests.fixtures.users import DEFAULT_PASSWORD, bearer, login, register
from tiktimer.audit.events import Event, Outcome
from tiktimer.audit.writer import AuditLog
from tiktimer.db.engine import create_engine
from tiktimer.models import AuditEvent


@pytest.fixture
async def admin(client: httpx.AsyncClient, app: FastAPI) -> dict[str, str]:
    await _make_admin(app, "root")
    return bearer(await login(client, "root"))


async def audit(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> tuple[list[dict[str, Any]], int]:
    response = await client.get("/admin/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json(), int(response.headers["X-Total-Count"])


async def everything_stored(app: FastAPI) -> str:
    async with app.state.services.engine.connect() as connection:
        rows = await connection.execute(text("SELECT * FROM audit_events"))
        return " ".join(str(value) for row in rows for value in row)


async def test_only_admins_read_the_audit_log(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.get("/admin/audit")).status_code == 401
    await register(client, "alice")
    alice = bearer(await login(client, "alice"))
    refused = await client.get("/admin/audit", headers=alice)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Admin privileges required"}
    assert (await client.get("/admin/audit", headers=admin)).status_code == 200


async def test_a_session_of_events_is_recorded_newest_first_without_secrets(
    client: httpx.AsyncClient, app: FastAPI, admin: dict[str, str]
) -> None:
    alice = await register(client, "alice")
    subject = f"user:{alice['id']}"
    wrong = "not-my-password-but-close"
    assert (await client.post("/token", data={"username": "alice", "password": wrong})).is_error
    mistyped = "correct horse battery staple"  # a password typed into the username field
    typo = await client.post("/token", data={"username": mistyped, "password": "x" * 9})
    assert typo.status_code == 401
    tokens = await login(client, "alice")
    renewed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    reuse = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    tokens = await login(client, "alice")
    change = {"password": "brand new password", "current_password": "wrong-current"}
    assert (await client.patch("/users/me", json=change, headers=bearer(tokens))).is_error
    change["current_password"] = DEFAULT_PASSWORD
    assert (await client.patch("/users/me", json=change, headers=bearer(tokens))).is_success
    tokens = await login(client, "alice", "brand new password")
    assert (await client.post("/auth/logout", headers=bearer(tokens))).status_code == 204

    events, total = await audit(client, admin, subject=subject)
    assert [(e["event"], e["outcome"]) for e in events] == [
        ("auth.logout", "success"),
        ("auth.login", "success"),
        ("auth.password_changed", "success"),
        ("auth.password_changed", "failure"),
        ("auth.login", "success"),
        ("auth.refresh_reuse", "blocked"),
        ("auth.login", "success"),
        ("auth.login", "failure"),
    ]
    assert total == len(events)
    assert all(e["address"] == "127.0.0.1" for e in events)
    assert events[-1]["detail"] == {"reason": "bad_password"}
    assert events[-1]["actor_user_id"] is None  # whoever guessed is not the account's owner
    assert events[0]["actor_user_id"] == alice["id"]
    stamps = [datetime.fromisoformat(e["at"]) for e in events]
    assert stamps == sorted(stamps, reverse=True)

    unknown, _ = await audit(client, admin, event="auth.login", outcome="failure")
    assert {e["detail"]["reason"] for e in unknown} == {"bad_password", "unknown_account"}
    assert next(e for e in unknown if e["subject"] is None)["detail"] == {
        "reason": "unknown_account"
    }

    stored = await everything_stored(app)
    listing = (await client.get("/admin/audit", headers=admin)).text
    secrets = [wrong, mistyped, DEFAULT_PASSWORD, "brand new password", "wrong-current"]
    secrets += [tokens["access_token"], tokens["refresh_token"], renewed.json()["refresh_token"]]
    for secret in secrets:
        assert secret not in stored
        assert secret not in listing


async def test_admin_actions_name_the_admin_and_the_change(
    client: httpx.AsyncClient, app: FastAPI, admin: dict[str, str]
) -> None:
    alice = await register(client, "alice")
    url = f"/admin/users/{alice['id']}"
    assert (await client.patch(url, json={"is_superuser": True}, headers=admin)).is_success
    assert (await client.patch(url, json={"is_superuser": True}, headers=admin)).is_success
    assert (await client.patch(url, json={"is_active": False}, headers=admin)).is_success
    root_id = (await client.get("/users/me", headers=admin)).json()["id"]
    events, total = await audit(client, admin, event="admin.user_updated")
    assert total == 2  # the repeated grant changed nothing and is not an event
    assert [e["detail"] for e in events] == [{"is_active": False}, {"is_superuser": True}]
    assert {e["actor_user_id"] for e in events} == {root_id}
    assert {e["subject"] for e in events} == {f"user:{alice['id']}"}


async def test_filters_and_pages(
    client: httpx.AsyncClient, app: FastAPI, admin: dict[str, str]
) -> None:
    await register(client, "alice")
    for _ in range(3):
        assert (await client.post("/token", data={"username": "alice", "password": "no"})).is_error
    alice_id = (await client.get("/admin/users", headers=admin)).json()[1]["id"]
    await login(client, "alice")

    everything, total = await audit(client, admin)
    assert total == len(everything) == 5  # root's login, 3 failures, alice's login
    page, paged_total = await audit(client, admin, limit=2, offset=1)
    assert paged_total == total
    assert page == everything[1:3]
    failures, count = await audit(client, admin, event="auth.login", outcome="failure")
    assert count == 3
    assert all(e["outcome"] == "failure" for e in failures)
    mine, count = await audit(client, admin, actor_user_id=alice_id)
    assert count == 1
    assert mine[0]["event"] == "auth.login"
    latest = datetime.fromisoformat(everything[0]["at"])
    later, count = await audit(client, admin, since=(latest + timedelta(seconds=1)).isoformat())
    assert (later, count) == ([], 0)
    earlier, count = await audit(client, admin, until=latest.isoformat())
    assert count < total
    window, count = await audit(
        client,
        admin,
        since=(latest - timedelta(hours=1)).isoformat(),
        until=(latest + timedelta(hours=1)).isoformat(),
    )
    assert count == total
    naive, count = await audit(client, admin, since=(latest + timedelta(hours=1)).isoformat()[:19])
    assert count == 0  # a bound without an offset is UTC


@pytest.mark.parametrize(
    "params",
    [
        {"event": "auth.nonsense"},
        {"outcome": "maybe"},
        {"actor_user_id": str(2**63)},
        {"actor_user_id": "0"},
        {"offset": str(2**63)},
        {"limit": "501"},
        {"since": "0001-01-01T00:00:00+05:00"},
        {"until": "9999-12-31T23:59:59-05:00"},
        {"since": "not a date"},
        {"subject": "user:\x00"},
        {"subject": "x" * 129},
    ],
)
async def test_bad_filters_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/admin/audit", params=params, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def test_a_failing_audit_write_never_fails_the_request(
    client: httpx.AsyncClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    await register(client, "alice")
    nowhere = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")
    broken = AuditLog(nowhere)
    service = app.state.services.auth_service
    original = service.audit_log
    service.audit_log = broken
    try:
        with caplog.at_level(logging.WARNING, logger="tiktimer.audit"):
            guess = await client.post("/token", data={"username": "alice", "password": "wrong"})
            assert guess.status_code == 401
            await broken.flush()
        assert broken.dropped == 1
        assert "audit.write_failed rows=1 error=" in caplog.text
    finally:
        service.audit_log = original
        await broken.aclose()
        await nowhere.dispose()


async def test_writer_batches_what_gathers(app: FastAPI, client: httpx.AsyncClient) -> None:
    writer = AuditLog(app.state.services.engine, batch=100)
    try:
        for n in range(250):
            writer.record(Event.login, Outcome.failure, subject=f"user:{n}", address="192.0.2.1")
        await writer.flush()
    finally:
        await writer.aclose()
    async with app.state.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 250


async def test_a_full_writer_drops_instead_of_growing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    writer = AuditLog(app.state.services.engine, capacity=10)
    try:
        for _ in range(15):  # nothing runs between these calls: the writer has not started
            writer.record(Event.login, Outcome.failure)
        assert writer.dropped == 5
        await writer.flush()
    finally:
        await writer.aclose()


async def test_strings_are_bounded_and_nul_free(app: FastAPI, client: httpx.AsyncClient) -> None:
    writer = AuditLog(app.state.services.engine)
    try:
        writer.record(
            Event.login,
            Outcome.failure,
            subject="s\x00" * 200,
            address="a" * 100,
            detail={"reason": "r\x00" * 500, "k" * 100: 1},
        )
        await writer.flush()
    finally:
        await writer.aclose()
    async with app.state.services.sessionmaker() as session:
        row = (await session.execute(select(AuditEvent))).scalar_one()
    assert row.subject == "s" * 128
    assert row.address == "a" * 64
    assert row.detail == {"reason": "r" * 200, "k" * 64: 1}
    assert row.at <= datetime.now(UTC)
