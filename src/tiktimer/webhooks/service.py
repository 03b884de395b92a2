"""Applying verified TikTok deliveries: each one once, each through the same guarded writes
the status poll uses (`tiktimer.posts.queue.outcomes`), so neither ever undoes the other.

    post.publish.complete          → published (an inbox draft the creator posted: noted)
    post.publish.inbox_delivered   → published as a draft in the creator's inbox
    post.publish.failed            → failed with TikTok's reason in plain words; reasons
                                     worth a new upload are left to the poller, which
                                     starts the upload over
    post.publish.publicly_available → the public post id is added
    post.publish.no_longer_publicaly_available → noted on the post
    authorization.removed          → the account needs reconnecting
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.audit import events as audit
from tiktimer.audit.events import Event
from tiktimer.db.dialect import insert_for
from tiktimer.kit.time import utc_now
from tiktimer.models import AccountStatus, SocialAccount, WebhookEvent
from tiktimer.notifications.events import record_account_event
from tiktimer.platforms.contract import OutcomeState, PublishOutcome
from tiktimer.platforms.tiktok import fail_reasons
from tiktimer.platforms.tiktok.outcome import failed_outcome
from tiktimer.platforms.tiktok.schemas import PublishStatusValue
from tiktimer.posts.queue import outcomes
from tiktimer.webhooks.events import Delivery

log = logging.getLogger("tiktimer.webhooks")

NO_LONGER_PUBLIC = "NO_LONGER_PUBLICLY_AVAILABLE"
# reference §9: authorization.removed `reason`
_REMOVAL_REASONS = {
    1: "the creator disconnected TikTimer in TikTok",
    2: "the TikTok account was deleted",
    3: "the creator's age changed",
    4: "the TikTok account was banned",
    5: "the app's access was revoked by its developer",
}


async def record(session: AsyncSession, delivery: Delivery) -> bool:
    """Remember the delivery; False when it was seen before (TikTok delivers at least once)."""
    statement = (
        insert_for(session, WebhookEvent)
        .values(
            dedupe_key=delivery.dedupe_key,
            event=delivery.event[:64],
            received_at=utc_now(),
            payload=delivery.as_json(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def apply(session: AsyncSession, delivery: Delivery) -> str:
    """Apply one new delivery; returns what happened, for the log and the response."""
    if delivery.event == "authorization.removed":
        return await _authorization_removed(session, delivery)
    if not delivery.event.startswith("post.publish."):
        return "ignored"
    publish_id = delivery.publish_id
    found = await outcomes.post_for_publish_id(session, publish_id) if publish_id else None
    if found is None:
        return "unknown_publish_id"
    post_id, _ = found
    handler = _POST_EVENTS.get(delivery.event.removeprefix("post.publish."))
    if handler is None:
        return "ignored"
    return await handler(session, post_id, delivery)


async def _complete(session: AsyncSession, post_id: int, delivery: Delivery) -> str:
    outcome = PublishOutcome(
        OutcomeState.published, platform_status=PublishStatusValue.PUBLISH_COMPLETE.value
    )
    if await outcomes.apply_outcome(session, post_id, outcome):
        return "published"
    # Already settled: for an inbox draft this is the creator posting it from the app.
    status = PublishStatusValue.PUBLISH_COMPLETE.value
    noted = await outcomes.note_platform_status(session, post_id, status)
    return "noted" if noted else "already_settled"


async def _inbox_delivered(session: AsyncSession, post_id: int, delivery: Delivery) -> str:
    outcome = PublishOutcome(
        OutcomeState.in_inbox, platform_status=PublishStatusValue.SEND_TO_USER_INBOX.value
    )
    settled = await outcomes.apply_outcome(session, post_id, outcome)
    return "in_inbox" if settled else "already_settled"


async def _failed(session: AsyncSession, post_id: int, delivery: Delivery) -> str:
    reason = delivery.reason if isinstance(delivery.reason, str) else None
    if fail_reasons.retryable(reason):
        return "left_to_polling"  # the poller starts a new upload for these
    settled = await outcomes.apply_outcome(session, post_id, failed_outcome(reason))
    return "failed" if settled else "already_settled"


async def _publicly_available(session: AsyncSession, post_id: int, delivery: Delivery) -> str:
    ids = [delivery.post_id] if delivery.post_id else []
    outcome = PublishOutcome(
        OutcomeState.published,
        platform_status=PublishStatusValue.PUBLISH_COMPLETE.value,
        post_ids=ids,
    )
    if await outcomes.apply_outcome(session, post_id, outcome):
        return "published"
    added = await outcomes.add_public_post_ids(session, post_id, ids)
    return "post_id_added" if added else "already_settled"


async def _no_longer_public(session: AsyncSession, post_id: int, delivery: Delivery) -> str:
    noted = await outcomes.note_platform_status(session, post_id, NO_LONGER_PUBLIC)
    return "noted" if noted else "already_settled"


_POST_EVENTS = {
    "complete": _complete,
    "inbox_delivered": _inbox_delivered,
    "failed": _failed,
    "publicly_available": _publicly_available,
    # TikTok's spelling, and the correct one should TikTok ever fix it.
    "no_longer_publicaly_available": _no_longer_public,
    "no_longer_publicly_available": _no_longer_public,
}


async def _authorization_removed(session: AsyncSession, delivery: Delivery) -> str:
    if not delivery.user_openid:
        return "ignored"
    reason = delivery.reason
    why = "TikTok removed the authorization"
    if isinstance(reason, int):
        why = _REMOVAL_REASONS.get(reason, why)
    statement = (
        update(SocialAccount)
        .where(
            SocialAccount.open_id == delivery.user_openid,
            SocialAccount.platform == "tiktok",
            SocialAccount.status == AccountStatus.active,
        )
        .values(status=AccountStatus.reauth_required, status_reason=f"{why}; reconnect it")
        .returning(SocialAccount.id)
        .execution_options(synchronize_session=False)
    )
    changed = list((await session.execute(statement)).scalars())
    log.warning("webhooks.authorization_removed accounts=%d reason=%s", len(changed), reason)
    for account_id in changed:
        await record_account_event(session, account_id, f"{why}; reconnect it")
        audit.add(
            session,
            Event.webhook_authorization_removed,
            subject=f"account:{account_id}",
            detail={"reason": why},
        )
    return "account_reauth_required"
