"""One Reel through the contract's two steps, published exactly once.

`start_reel` creates the container (its id is the publish id the scheduler stores at
once). `check_reel` is one status check: FINISHED → read the publishing limit → publish;
PUBLISHED → already live (a publish whose answer was lost, §6), so never again; EXPIRED or
a dead container → `reinitialize`, and the scheduler starts over with a new container.
After a publish error that may have taken effect, or a container error, the status is read
again before anything else is decided.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from tiktimer.platforms.contract import ErrorKind, OutcomeState, PublishOutcome
from tiktimer.platforms.instagram.client import InstagramClient
from tiktimer.platforms.instagram.errors import (
    PUBLISH_CAP,
    InstagramError,
    container_failure,
    publish_cap_reached,
)
from tiktimer.platforms.instagram.schemas import ContainerStatusCode, Reel, TokenSet

logger = logging.getLogger("tiktimer.platforms.instagram.reels")


async def start_reel(client: InstagramClient, tokens: TokenSet, user_id: str, reel: Reel) -> str:
    container_id = await client.create_reel(tokens, user_id, reel)
    logger.info("instagram.container.created container=%s", container_id)
    return container_id


async def check_reel(
    client: InstagramClient, tokens: TokenSet, user_id: str, container_id: str
) -> PublishOutcome:
    status = await client.container_status(tokens, container_id)
    code = status.status_code
    if code is ContainerStatusCode.IN_PROGRESS:
        return PublishOutcome(OutcomeState.processing, platform_status=code.value)
    if code is ContainerStatusCode.PUBLISHED:
        return _published(container_id, None)
    if code is ContainerStatusCode.EXPIRED:
        raise InstagramError(
            ErrorKind.reinitialize,
            "The Instagram container expired before it was published; a new one is made.",
            subcode=2207008,
        )
    if code is ContainerStatusCode.ERROR:
        logger.warning(
            "instagram.container.error container=%s status=%s", container_id, status.status
        )
        raise container_failure(status.status)
    limit = await client.publishing_limit(tokens, user_id)
    if limit.reached:
        raise publish_cap_reached(limit.quota_usage, limit.quota_total, limit.quota_duration)
    try:
        media_id = await client.publish(tokens, user_id, container_id)
    except InstagramError as exc:
        return await _after_publish_error(client, tokens, user_id, container_id, exc)
    return _published(container_id, media_id)


async def _after_publish_error(
    client: InstagramClient,
    tokens: TokenSet,
    user_id: str,
    container_id: str,
    error: InstagramError,
) -> PublishOutcome:
    """Did it publish after all? Only the container's status can say (§6)."""
    if (error.graph_code, error.subcode) == PUBLISH_CAP:
        limit = await client.publishing_limit(tokens, user_id)
        raise publish_cap_reached(limit.quota_usage, limit.quota_total, limit.quota_duration)
    if (error.graph_code, error.subcode) == (9007, 2207027):
        return PublishOutcome(OutcomeState.processing, platform_status="IN_PROGRESS")
    if not (error.maybe_applied or error.kind is ErrorKind.reinitialize):
        raise error
    try:
        status = await client.container_status(tokens, container_id)
    except InstagramError:
        raise error from None  # the next check reads the status again
    if status.status_code is ContainerStatusCode.PUBLISHED:
        return _published(container_id, None)
    raise error


def _published(container_id: str, media_id: str | None) -> PublishOutcome:
    """Live. The media id is unknown when only the container's status told us (§6)."""
    logger.info("instagram.reel.published container=%s media=%s", container_id, media_id)
    return PublishOutcome(
        OutcomeState.published,
        platform_status=ContainerStatusCode.PUBLISHED.value,
        post_ids=[media_id] if media_id else [],
    )


async def start_uploaded_reel(
    client: InstagramClient,
    tokens: TokenSet,
    user_id: str,
    reel: Reel,
    upload: VideoUpload,
    on_container: Callable[[str], Awaitable[None]],
) -> str:
    """A resumable container, its id handed to `on_container` before any byte is sent (so a
    crash mid-upload leaves a container that simply expires), then the bytes streamed."""
    container_id, uri = await client.create_resumable_reel(tokens, user_id, reel)
    await on_container(container_id)
    await client.upload_video(tokens, uri, upload.file_size, upload.read_from)
    logger.info("instagram.container.uploaded container=%s", container_id)
    return container_id


@dataclass(frozen=True)
class VideoUpload:
    """The file's size, and its bytes from an offset on (streamed from storage)."""

    file_size: int
    read_from: Callable[[int], AsyncIterator[bytes]]
