"""rupload (§4.3–4.4): a resumable container's bytes, `POST`ed to the `uri` its creation
returned, with `Authorization: OAuth <token>` (strict: `Bearer` is refused), and integer
`offset` and `file_size` headers; the body is the file from `offset` on.

How a client learns the received offset after a cut is UNCONFIRMED (§13.6): here a `GET`
on the same URL answers `{"offset": <bytes received>, "file_size": …}`, and a `POST` at any
other offset is refused with the received offset in the message. Bytes that arrived before
a connection was cut are kept. The `file_url` header variant is not emulated.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import containers
from .config import EmulatorConfig
from .errors import GraphError, invalid_parameter
from .mp4 import HEAD_BYTES, MAX_BYTES, video_facts
from .state import Container, ContainerStatus, State, Token, Upload


def oauth_token(headers: Mapping[str, str]) -> str:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme != "OAuth" or not value.strip():
        raise GraphError(190, "rupload needs the header Authorization: OAuth <token>.")
    return value.strip()


def begin(
    state: State,
    config: EmulatorConfig,
    token: Token,
    container_id: str,
    headers: Mapping[str, str],
    now: float,
) -> Container:
    container = _resumable(state, config, token, container_id, now)
    upload = container.upload
    assert upload is not None
    offset, size = _header_int(headers, "offset"), _header_int(headers, "file_size")
    if size <= 0 or size > MAX_BYTES or (upload.file_size not in (None, size)):
        raise invalid_parameter("file_size is missing, too large or changed.")
    if upload.busy:
        raise invalid_parameter("Another upload request for this container is in progress.")
    if offset != upload.received:
        raise invalid_parameter(f"offset must be {upload.received}, the bytes received.")
    upload.file_size, upload.busy = size, True
    return container


def receive(container: Container, chunk: bytes) -> None:
    upload = container.upload
    if upload is None or upload.file_size is None:
        raise invalid_parameter("This container is not awaiting an upload.")
    if upload.received + len(chunk) > upload.file_size:
        raise invalid_parameter("The body is longer than file_size - offset.")
    if len(upload.head) < HEAD_BYTES:
        upload.head += chunk[: HEAD_BYTES - len(upload.head)]
    upload.received += len(chunk)


def finish(container: Container, config: EmulatorConfig, now: float) -> bool:
    """Processing starts once every byte is in; True when the upload is complete."""
    upload = container.upload
    if upload is not None:
        upload.busy = False
    if upload is None or upload.file_size is None or upload.received < upload.file_size:
        return False
    facts = video_facts(bytes(upload.head), upload.file_size)
    offset, duration = container.thumb_offset, facts.duration_ms
    if offset is not None and duration is not None and offset >= duration:
        facts = type(facts)(facts.size, duration, 2207057)
    container.facts, container.upload = facts, None
    container.ready_at = now + config.processing_seconds
    return True


def progress(
    state: State, config: EmulatorConfig, token: Token, container_id: str, now: float
) -> dict[str, int | None]:
    container = state.containers.get(container_id)
    if container is not None and container.user_id == token.user_id and container.upload is None:
        return {"offset": container.facts.size, "file_size": container.facts.size}
    upload = _resumable(state, config, token, container_id, now).upload or Upload()
    return {"offset": upload.received, "file_size": upload.file_size}


def _resumable(
    state: State, config: EmulatorConfig, token: Token, container_id: str, now: float
) -> Container:
    container = state.containers.get(container_id)
    if container is None or container.user_id != token.user_id or container.upload is None:
        raise GraphError(
            24, "The media was not found or is not awaiting an upload.", subcode=2207006
        )
    if containers.status_of(container, config, now) is ContainerStatus.EXPIRED:
        raise GraphError(24, "The media builder does not exist or has expired.", subcode=2207008)
    return container


def _header_int(headers: Mapping[str, str], name: str) -> int:
    raw = headers.get(name, "")
    if not raw.isdigit():
        raise invalid_parameter(f"The header {name} must be an integer.")
    return int(raw)
