"""Tokens, the client secret, codes, verifiers and session ids never reach a log line or
an error message, through a whole connect, upload (with a retry), poll and revoke."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.youtube.conftest import (
    CLIENT_SECRET,
    KIB256,
    Served,
    consent,
    make_client,
    reader,
    video_bytes,
)
from tiktimer.platforms.youtube.client import YouTubeClient, parse_callback
from tiktimer.platforms.youtube.emulator import Fault, FaultKind
from tiktimer.platforms.youtube.errors import YouTubeError
from tiktimer.platforms.youtube.schemas import VideoMetadata


async def test_no_secret_in_logs_or_errors(
    served: Served, clients: list[YouTubeClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(served)
    clients.append(client)
    query, state, verifier = await consent(client)
    code = parse_callback(query, state)
    tokens = await client.exchange_code(code, verifier)
    renewed = await client.refresh(tokens.refresh_token or "")
    size = 2 * KIB256 + 5
    served.emulator.add_fault(Fault(endpoint="chunk", kind=FaultKind.DROP, nth=2))
    uri = await client.start_upload(
        renewed.access_token, VideoMetadata(title="secret"), size=size, content_type="video/mp4"
    )
    data = video_bytes(size)
    video = await client.upload(
        renewed.access_token, uri, size=size, content_type="video/mp4", read_range=reader(data)
    )
    await client.video_state(renewed.access_token, video.video_id)
    await client.revoke(tokens.refresh_token or "")
    errors: list[YouTubeError] = []
    for attempt in (
        lambda: client.refresh(tokens.refresh_token or ""),
        lambda: client.video_state(renewed.access_token, video.video_id),
    ):
        with pytest.raises(YouTubeError) as caught:
            await attempt()
        errors.append(caught.value)

    upload_id = dict(parse_qsl(urlsplit(uri).query))["upload_id"]
    secrets = [
        CLIENT_SECRET,
        code,
        verifier,
        tokens.access_token,
        tokens.refresh_token or "",
        renewed.access_token,
        upload_id,
    ]
    texts = [record.getMessage() for record in caplog.records]
    texts += [e.message for e in errors] + [repr(e.args) for e in errors]
    assert any("HTTP Request" in text for text in texts)  # httpx did log every call
    assert any("youtube.upload.retry" in text for text in texts)
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {text!r}"
