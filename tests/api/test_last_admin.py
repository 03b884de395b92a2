"""The last active admin cannot deactivate or demote itself, not even in a race."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.api.test_auth import _make_admin
from tests.fixtures.users import bearer, login, register
from tiktimer.models import AuditEvent, User


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    response = await client.get("/users/me", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def active_admins(app: FastAPI) -> int:
    async with app.state.services.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.is_superuser.is_(True), User.is_active.is_(True))
        )
        return int(count or 0)


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_superuser": False}])
async def test_the_last_admin_cannot_remove_itself(
    client: httpx.AsyncClient, app: FastAPI, change: dict[str, bool]
) -> None:
    await _make_admin(app, "root")
    root = bearer(await login(client, "root"))
    root_id = (await me(client, root))["id"]
    refused = await client.patch(f"/admin/users/{root_id}", json=change, headers=root)
    assert refused.status_code == 409
    assert "last active admin" in refused.json()["detail"]
    after = await me(client, root)  # nothing changed, the session still works
    assert after["is_active"] is True
    assert after["is_superuser"] is True
    await app.state.services.audit.flush()
    async with app.state.services.sessionmaker() as session:
        event = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.event == "admin.user_updated")
            )
        ).scalar_one()
    assert (event.outcome, event.actor_user_id, event.subject) == (
        "blocked",
        root_id,
        f"user:{root_id}",
    )


async def test_with_another_admin_it_can(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _make_admin(app, "root")
    await _make_admin(app, "deputy")
    root = bearer(await login(client, "root"))
    root_id = (await me(client, root))["id"]
    demoted = await client.patch(
        f"/admin/users/{root_id}", json={"is_superuser": False}, headers=root
    )
    assert demoted.status_code == 200
    assert demoted.json()["is_superuser"] is False
    deputy = bearer(await login(client, "deputy"))
    deputy_id = (await me(client, deputy))["id"]
    # Now the deputy is the last one.
    refused = await client.patch(
        f"/admin/users/{deputy_id}", json={"is_active": False}, headers=deputy
    )
    assert refused.status_code == 409
    assert await active_admins(app) == 1


async def test_changes_that_keep_an_admin_are_not_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _make_admin(app, "root")
    root = bearer(await login(client, "root"))
    root_id = (await me(client, root))["id"]
    alice = await register(client, "alice")
    url = f"/admin/users/{root_id}"
    assert (await client.patch(url, json={"is_active": True}, headers=root)).status_code == 200
    assert (await client.patch(url, json={"is_superuser": True}, headers=root)).status_code == 200
    assert (await client.patch(url, json={}, headers=root)).status_code == 200
    other = f"/admin/users/{alice['id']}"
    assert (await client.patch(other, json={"is_active": False}, headers=root)).status_code == 200


async def test_two_admins_removing_each_other_at_once_leave_one(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    for round_ in range(3):
        await _make_admin(app, f"first{round_}")
        await _make_admin(app, f"second{round_}")
        first = bearer(await login(client, f"first{round_}"))
        second = bearer(await login(client, f"second{round_}"))
        first_id, second_id = (await me(client, first))["id"], (await me(client, second))["id"]
        change = {"is_superuser": False} if round_ % 2 else {"is_active": False}
        answers = await asyncio.gather(
            client.patch(f"/admin/users/{second_id}", json=change, headers=first),
            client.patch(f"/admin/users/{first_id}", json=change, headers=second),
        )
        assert sorted(a.status_code for a in answers) in ([200, 409], [200, 401], [200, 403])
        assert await active_admins(app) == 1
        # Leave the survivor alone for the next round: it stays an admin.
        async with app.state.services.sessionmaker() as session, session.begin():
            for user in (await session.execute(select(User))).scalars():
                user.is_superuser = False


async def test_two_admins_removing_themselves_at_once_leave_one(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _make_admin(app, "first")
    await _make_admin(app, "second")
    first = bearer(await login(client, "first"))
    second = bearer(await login(client, "second"))
    first_id, second_id = (await me(client, first))["id"], (await me(client, second))["id"]
    answers = await asyncio.gather(
        client.patch(f"/admin/users/{first_id}", json={"is_superuser": False}, headers=first),
        client.patch(f"/admin/users/{second_id}", json={"is_superuser": False}, headers=second),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert await active_admins(app) == 1
