"""Endpoints a user adds and removes, their test sends and the in-app list.

The signing secret is made here, returned once, and stored under the token cipher; it is
never read back into a response. A URL is checked against the SSRF guard's policy when it
is added (a clear 422), and again by the guard at every delivery (names can change).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.errors import Conflict, NotFound, Unprocessable
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.safe_fetch import FetchPolicy, FetchRefused
from tiktimer.kit.time import utc_now
from tiktimer.models import NotificationEndpoint, NotificationEvent
from tiktimer.notifications import repository
from tiktimer.notifications.schemas import EndpointCreate, EndpointCreated, EndpointRead
from tiktimer.notifications.signing import new_secret

NOT_FOUND = "Notification endpoint not found"


class NotificationService:
    def __init__(self, cipher: TokenCipher, policy: FetchPolicy) -> None:
        self.cipher = cipher
        self.policy = policy

    async def add_endpoint(
        self, session: AsyncSession, user_id: int, body: EndpointCreate
    ) -> EndpointCreated:
        self._check_url(body.url)
        if await repository.count_endpoints(session, user_id) >= repository.MAX_ENDPOINTS_PER_USER:
            limit = repository.MAX_ENDPOINTS_PER_USER
            raise Conflict(f"At most {limit} notification endpoints per user")
        secret = new_secret()
        endpoint = NotificationEndpoint(
            user_id=user_id,
            url=body.url,
            secret_encrypted=self.cipher.encrypt(secret),
            events=[str(kind) for kind in body.events],
            description=body.description,
        )
        session.add(endpoint)
        await session.flush()
        read = EndpointRead.model_validate(endpoint)
        return EndpointCreated(**read.model_dump(), secret=secret)

    def _check_url(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
            self.policy.check_url(parsed)
            if not parsed.host:
                raise FetchRefused("the URL has no host")
        except (httpx.InvalidURL, FetchRefused) as exc:
            reason = getattr(exc, "reason", None) or "not a valid URL"
            raise Unprocessable(_field_error("url", reason)) from None

    async def endpoints(self, session: AsyncSession, user_id: int) -> list[EndpointRead]:
        found = await repository.endpoints_of(session, user_id)
        return [EndpointRead.model_validate(e) for e in found]

    async def set_events(
        self, session: AsyncSession, user_id: int, endpoint_id: int, kinds: Sequence[str]
    ) -> EndpointRead:
        endpoint = await repository.endpoint_of(session, user_id, endpoint_id)
        if endpoint is None:
            raise NotFound(NOT_FOUND)
        endpoint.events = [str(kind) for kind in kinds]
        await session.flush()
        return EndpointRead.model_validate(endpoint)

    async def remove_endpoint(self, session: AsyncSession, user_id: int, endpoint_id: int) -> None:
        if not await repository.remove_endpoint(session, user_id, endpoint_id):
            raise NotFound(NOT_FOUND)

    async def send_test(self, session: AsyncSession, user_id: int, endpoint_id: int) -> int:
        """Queue a `test` event for the endpoint; the worker delivers it (see the log)."""
        if await repository.endpoint_of(session, user_id, endpoint_id) is None:
            raise NotFound(NOT_FOUND)
        return await repository.add_test_event(session, user_id, endpoint_id)

    async def events(
        self, session: AsyncSession, user_id: int, *, limit: int = 50, offset: int = 0
    ) -> tuple[Sequence[NotificationEvent], int]:
        return await repository.events_of(session, user_id, limit=limit, offset=offset)

    async def mark_read(self, session: AsyncSession, user_id: int) -> int:
        return await repository.mark_read(session, user_id, utc_now())

    async def deliveries(
        self,
        session: AsyncSession,
        user_id: int,
        *,
        endpoint_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """The log, of one endpoint when given (not the user's endpoint: 404)."""
        if endpoint_id is not None:
            if await repository.endpoint_of(session, user_id, endpoint_id) is None:
                raise NotFound(NOT_FOUND)
        return await repository.deliveries_of(
            session, user_id, endpoint_id=endpoint_id, limit=limit, offset=offset
        )


def _field_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]
