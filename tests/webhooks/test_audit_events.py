"""A webhook that cuts an account off is in the audit log, once per delivery."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.webhooks.conftest import deliver, envelope
from tiktimer.models import AuditEvent, SocialAccount


async def test_authorization_removed_is_recorded_per_account(
    client: httpx.AsyncClient, app: FastAPI, account: int
) -> None:
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(SocialAccount, account)
        assert stored is not None
        open_id = stored.open_id
    body = envelope("authorization.removed", {"reason": 4}, user_openid=open_id)
    assert (await deliver(client, body)).json() == {"status": "account_reauth_required"}
    assert (await deliver(client, body)).json() == {"status": "duplicate"}
    async with app.state.services.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.event == "webhook.authorization_removed")
        )
        [event] = rows.scalars()
    assert event.subject == f"account:{account}"
    assert event.detail == {"reason": "the TikTok account was banned"}
    assert event.actor_user_id is None
