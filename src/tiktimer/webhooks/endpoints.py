"""`POST /api/v1/webhooks/tiktok`: TikTok's callback URL (configure it in the developer portal).

Verification uses the raw body, before any parsing. A forged, stale or malformed delivery
gets 403/400 and changes nothing; a genuine one is recorded and applied in the request's
transaction, committed before the 200, so a failure answers 500 and TikTok delivers again.
Nothing here calls TikTok, so the answer comes at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from tiktimer.db.session import SessionDep
from tiktimer.errors import BadRequest, Forbidden, PayloadTooLarge
from tiktimer.kit.instruments import WEBHOOKS_RECEIVED
from tiktimer.kit.openapi import errors
from tiktimer.kit.state import provided
from tiktimer.webhooks import service
from tiktimer.webhooks.events import MalformedDelivery, parse
from tiktimer.webhooks.signature import HEADER, SignatureError, verify

log = logging.getLogger("tiktimer.webhooks")

MAX_BODY_BYTES = 64 * 1024

router = APIRouter(tags=["webhooks"])


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    client_key: str
    client_secret: str
    tolerance_seconds: float


WebhookSettingsDep = Annotated[WebhookSettings, Depends(provided(WebhookSettings))]


@router.post(
    "/api/v1/webhooks/tiktok",
    responses=errors(400, 403, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def tiktok_webhook(
    request: Request, session: SessionDep, hooks: WebhookSettingsDep
) -> dict[str, str]:
    """TikTok's events: signed with the app's client secret; applied once each."""
    body = await _body(request)
    try:
        verify(
            request.headers.get(HEADER),
            body,
            hooks.client_secret,
            now=time.time(),
            tolerance=hooks.tolerance_seconds,
        )
    except SignatureError as exc:
        log.warning("webhooks.rejected reason=%s", exc)
        WEBHOOKS_RECEIVED.labels("tiktok", "rejected").inc()
        raise Forbidden(f"Webhook refused: {exc}") from None
    try:
        delivery = parse(body)
    except MalformedDelivery as exc:
        WEBHOOKS_RECEIVED.labels("tiktok", "rejected").inc()
        raise BadRequest(f"Webhook refused: {exc}") from None
    if delivery.client_key is not None and delivery.client_key != hooks.client_key:
        WEBHOOKS_RECEIVED.labels("tiktok", "other_client").inc()
        return {"status": "other_client"}
    if not await service.record(session, delivery):
        WEBHOOKS_RECEIVED.labels("tiktok", "duplicate").inc()
        return {"status": "duplicate"}
    result = await service.apply(session, delivery)
    WEBHOOKS_RECEIVED.labels("tiktok", "applied").inc()
    log.info("webhooks.applied event=%s result=%s", delivery.event, result)
    return {"status": result}


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge("Webhook body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge("Webhook body too large")
    return bytes(body)
