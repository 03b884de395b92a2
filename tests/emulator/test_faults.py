"""Fault injection: latency, 5xx, hangs, dropped connections, TikTok codes on the Nth call."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.emulator.flows import TikTok, error_code, video_body
from tiktimer.platforms.tiktok.emulator import ConnectionDropped, Fault, FaultKind, FaultPhase
from tiktimer.platforms.tiktok.emulator.ids import token_hash


async def test_latency(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(Fault(endpoint="creator_info", kind=FaultKind.LATENCY, seconds=0.2))
    token = tiktok.tokens()

    started = time.perf_counter()
    slow = await tiktok.creator_info(token)
    slow_elapsed = time.perf_counter() - started
    started = time.perf_counter()
    await tiktok.creator_info(token)

    assert slow.status_code == 200
    assert slow_elapsed >= 0.2
    assert time.perf_counter() - started < 0.2


async def test_5xx_on_the_nth_call_only(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(
        Fault(endpoint="creator_info", kind=FaultKind.HTTP_ERROR, nth=2, status=503)
    )
    token = tiktok.tokens()

    statuses = [(await tiktok.creator_info(token)).status_code for _ in range(3)]

    assert statuses == [200, 503, 200]
    failed = tiktok.emulator.requests(endpoint="creator_info")[1]
    assert (failed.status, failed.fault) == (503, "http_error")


async def test_5xx_body_keeps_the_envelope(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(Fault(endpoint="status", kind=FaultKind.HTTP_ERROR))

    response = await tiktok.status(tiktok.tokens(), "v_pub_file~v2-1.1")

    assert response.status_code == 500
    assert response.json()["data"] == {}
    assert error_code(response) == "internal_error"


async def test_tiktok_error_code_on_the_nth_init(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(
        Fault(
            endpoint="video_init",
            kind=FaultKind.TIKTOK_ERROR,
            nth=3,
            error_code="spam_risk_too_many_posts",
        )
    )
    token = tiktok.tokens()

    responses = [await tiktok.init_video(token, video_body()) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 403]
    assert error_code(responses[2]) == "spam_risk_too_many_posts"
    assert tiktok.emulator.count_publications() == 2


async def test_tiktok_error_on_the_token_endpoint_is_flat(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(
        Fault(endpoint="token", kind=FaultKind.TIKTOK_ERROR, error_code="invalid_grant", status=400)
    )

    response = await tiktok.token(grant_type="refresh_token", refresh_token="rft.x")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_hang_makes_the_client_time_out(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(Fault(endpoint="creator_info", kind=FaultKind.HANG, seconds=5))

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(tiktok.creator_info(tiktok.tokens()), timeout=0.1)

    [record] = tiktok.emulator.requests(endpoint="creator_info")
    assert (record.status, record.fault) == (None, "hang")


async def test_dropped_connection_is_a_transport_error(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(Fault(endpoint="creator_info", kind=FaultKind.DROP))

    with pytest.raises(httpx.TransportError) as raised:
        await tiktok.creator_info(tiktok.tokens())

    assert isinstance(raised.value, ConnectionDropped)
    assert (await tiktok.creator_info(tiktok.tokens())).status_code == 200


async def test_init_processed_but_reply_lost(tiktok: TikTok) -> None:
    """The hazard schedulers must handle: the init worked although the client saw a 500."""
    tiktok.emulator.add_fault(
        Fault(endpoint="video_init", kind=FaultKind.HTTP_ERROR, phase=FaultPhase.AFTER)
    )

    response = await tiktok.init_video(tiktok.tokens(), video_body(title="once"))

    assert response.status_code == 500
    assert tiktok.emulator.count_publications(caption="once") == 1


async def test_dropped_reply_after_processing(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(
        Fault(endpoint="video_init", kind=FaultKind.DROP, phase=FaultPhase.AFTER)
    )

    with pytest.raises(httpx.TransportError):
        await tiktok.init_video(tiktok.tokens(), video_body(title="lost"))

    assert tiktok.emulator.count_publications(caption="lost") == 1


async def test_chunk_5xx_then_retry_of_the_same_chunk_succeeds(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(
        Fault(endpoint="upload", kind=FaultKind.HTTP_ERROR, nth=2, status=502)
    )
    size, chunk = 25_000_000, 10_000_000
    token = tiktok.tokens()
    body = video_body(video_size=size, chunk_size=chunk, count=2)
    url = (await tiktok.init_video(token, body)).json()["data"]["upload_url"]

    first = await tiktok.put_chunk(url, 0, chunk - 1, size)
    failed = await tiktok.put_chunk(url, chunk, size - 1, size)
    retried = await tiktok.put_chunk(url, chunk, size - 1, size)

    assert [first.status_code, failed.status_code, retried.status_code] == [206, 502, 201]


async def test_dropped_chunk_can_be_resent(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.DROP))
    url = (await tiktok.init_video(tiktok.tokens(), video_body())).json()["data"]["upload_url"]

    with pytest.raises(httpx.TransportError):
        await tiktok.put_chunk(url, 0, 999_999, 1_000_000)

    assert (await tiktok.put_chunk(url, 0, 999_999, 1_000_000)).status_code == 201


async def test_times_none_keeps_hitting_until_cleared(tiktok: TikTok) -> None:
    tiktok.emulator.add_fault(
        Fault(endpoint="*", kind=FaultKind.HTTP_ERROR, nth=2, times=None, status=500)
    )
    token = tiktok.tokens()

    statuses = [(await tiktok.creator_info(token)).status_code for _ in range(3)]
    tiktok.emulator.clear_faults()

    assert statuses == [200, 500, 500]
    assert (await tiktok.creator_info(token)).status_code == 200


async def test_requests_are_recorded_with_token_hashes(tiktok: TikTok) -> None:
    tokens = await tiktok.connect()
    await tiktok.creator_info(tokens["access_token"])

    records = tiktok.emulator.requests()

    assert [r.endpoint for r in records] == ["authorize", "token", "creator_info"]
    assert records[-1].token_hash == token_hash(tokens["access_token"])
    assert records[-1].method == "POST"
    assert records[-1].status == 200
    assert records[-1].path == "/v2/post/publish/creator_info/query/"
    assert all(tokens["access_token"] not in repr(r) for r in records)
    assert tiktok.emulator.count_requests(endpoint="token", status=200) == 1
    assert records[1].at <= records[2].at


def test_fault_needs_an_error_code_for_tiktok_errors() -> None:
    with pytest.raises(ValueError, match="error_code"):
        Fault(endpoint="token", kind=FaultKind.TIKTOK_ERROR)
    with pytest.raises(ValueError, match="start at 1"):
        Fault(endpoint="token", kind=FaultKind.DROP, nth=0)
