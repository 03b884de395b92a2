"""TikTok connects, disconnects and refused refreshes leave audit events, never a token."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from tests.accounts.conftest import connect
from tests.accounts.test_connect import accounts, plaintext_tokens
from tiktimer.accounts.tokens import AccountUnusable
from tiktimer.models import AuditEvent


async def events(app: FastAPI, prefix: str = "tiktok.") -> list[AuditEvent]:
    await app.state.services.audit.flush()
    async with app.state.services.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.event.startswith(prefix)).order_by(AuditEvent.id)
        )
        return list(rows.scalars())


async def stored_text(app: FastAPI) -> str:
    async with app.state.services.engine.connect() as connection:
        rows = await connection.execute(text("SELECT * FROM audit_events"))
        return " ".join(str(value) for row in rows for value in row)


async def test_connect_refresh_refused_and_disconnect_are_recorded(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    page = await connect(client, alice)
    assert page.status_code == 200, page.text
    [account] = await accounts(client, alice)
    me = (await client.get("/users/me", headers=alice)).json()
    access, refresh = await plaintext_tokens(app, account["id"])
    await app.state.services.tiktok.refresh_access_token(refresh)  # rotates it behind our back
    with pytest.raises(AccountUnusable):
        await app.state.services.account_tokens.refresh(account["id"])
    assert (await client.delete("/api/v1/auth/tiktok/disconnect", headers=alice)).is_success

    recorded = await events(app)
    subject = f"account:{account['id']}"
    assert [(e.event, e.outcome, e.subject) for e in recorded] == [
        ("tiktok.connected", "success", subject),
        ("tiktok.reauth_required", "failure", subject),
        ("tiktok.disconnected", "success", subject),
    ]
    assert recorded[0].actor_user_id == me["id"]
    assert recorded[0].detail == {"sandbox": True}
    assert recorded[1].detail["reason"] == "TikTok refused the refresh: invalid_grant"
    assert recorded[2].actor_user_id == me["id"]
    everything = await stored_text(app)
    assert access not in everything
    assert refresh not in everything
