"""Reels containers (§4–§6): the state machine, read lazily from the clock, and publishing.

IN_PROGRESS until `ready_at`, then FINISHED or ERROR (the video's verdict); FINISHED →
PUBLISHED by `media_publish`; any container not published within its lifetime (24 h) is
EXPIRED. Publishing a container twice never makes a second media: the second call is an
error (which one is UNCONFIRMED; 24/2207008, so a client that re-creates on it is caught
by the media count).
"""

from __future__ import annotations

from . import ids
from .config import EmulatorConfig
from .errors import CONTAINER_CAP_CODE, GraphError
from .params import ReelParams
from .state import Container, ContainerStatus, Media, State, Upload, VideoFacts


def status_of(container: Container, config: EmulatorConfig, now: float) -> ContainerStatus:
    if container.media_id is not None:
        return ContainerStatus.PUBLISHED
    if now >= container.created_at + config.container_seconds:
        return ContainerStatus.EXPIRED
    if now < container.ready_at:
        return ContainerStatus.IN_PROGRESS
    if container.facts.error_subcode is not None:
        return ContainerStatus.ERROR
    return ContainerStatus.FINISHED


def status_text(container: Container, status: ContainerStatus) -> str:
    if status is ContainerStatus.ERROR:
        return f"Error: Media upload has failed with error code {container.facts.error_subcode}"
    return {
        ContainerStatus.IN_PROGRESS: "In Progress: Media is still being processed.",
        ContainerStatus.FINISHED: "Finished: Media is ready to be published.",
        ContainerStatus.PUBLISHED: "Published: Media has been successfully published.",
        ContainerStatus.EXPIRED: "Expired: Media was not published within 24 hours.",
    }[status]


def check_container_cap(state: State, config: EmulatorConfig, user_id: str, now: float) -> None:
    since = now - 86_400.0
    made = sum(
        1 for c in state.containers.values() if c.user_id == user_id and c.created_at > since
    )
    if made >= config.containers_per_day:
        raise GraphError(
            CONTAINER_CAP_CODE,
            f"The account created {config.containers_per_day} containers in 24 hours.",
        )


def check_thumb_offset(reel: ReelParams, facts: VideoFacts) -> None:
    offset, duration = reel.thumb_offset, facts.duration_ms
    if offset is not None and duration is not None and offset >= duration:
        raise GraphError(1, "thumb_offset is out of the video's range.", subcode=2207057)


def create(
    state: State,
    config: EmulatorConfig,
    *,
    user_id: str,
    app_id: str,
    reel: ReelParams,
    facts: VideoFacts | None,
    now: float,
) -> Container:
    """`facts` None: a resumable container, processed once its bytes are uploaded."""
    container = Container(
        id=ids.numeric_id("container"),
        user_id=user_id,
        app_id=app_id,
        created_at=now,
        ready_at=now + config.processing_seconds if facts else float("inf"),
        video_url=reel.video_url,
        caption=reel.caption,
        share_to_feed=reel.share_to_feed,
        thumb_offset=reel.thumb_offset,
        cover_url=reel.cover_url,
        facts=facts or VideoFacts(0, None, None),
        upload=None if facts else Upload(),
    )
    state.containers[container.id] = container
    return container


def publish(
    state: State, config: EmulatorConfig, *, user_id: str, creation_id: str, now: float
) -> Media:
    container = state.containers.get(creation_id)
    if container is None or container.user_id != user_id:
        raise GraphError(24, "The media was not found.", subcode=2207006)
    status = status_of(container, config, now)
    if status is ContainerStatus.IN_PROGRESS:
        raise GraphError(
            9007, "The media is not ready for publishing, please wait for a moment", subcode=2207027
        )
    if status is ContainerStatus.ERROR:
        raise GraphError(-1, "Create media failed.", subcode=2207032)
    if status in (ContainerStatus.EXPIRED, ContainerStatus.PUBLISHED):
        subcode = config.expired_publish_subcode if status is ContainerStatus.EXPIRED else 2207008
        code = -2 if subcode == 2207020 else 24
        raise GraphError(code, "The media builder does not exist or has expired.", subcode=subcode)
    used = publishing_usage(state, config, user_id, now)
    if used >= config.publish_cap:
        raise GraphError(
            9,
            "You reached maximum number of posts that is allowed to be published "
            "by Content Publishing API.",
            subcode=2207042,
        )
    media = Media(
        id=ids.numeric_id("media"),
        user_id=user_id,
        container_id=container.id,
        caption=container.caption,
        share_to_feed=container.share_to_feed,
        thumb_offset=container.thumb_offset,
        cover_url=container.cover_url,
        published_at=now,
    )
    state.media[media.id] = media
    container.media_id = media.id
    return media


def publishing_usage(state: State, config: EmulatorConfig, user_id: str, now: float) -> int:
    since = now - config.publish_window_seconds
    return sum(1 for m in state.media.values() if m.user_id == user_id and m.published_at > since)
