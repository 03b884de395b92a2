"""Each Google error class, as the emulator answers it, mapped to the contract's ErrorKind."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.youtube.conftest import KIB256, Served, connect, make_client
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.emulator import Fault, FaultKind, FaultPhase
from tiktimer.platforms.youtube.errors import QuotaDeferred, YouTubeError
from tiktimer.platforms.youtube.schemas import TokenSet, VideoMetadata

META = VideoMetadata(title="errors")


@pytest.fixture
async def setup(served: Served, clients: list[YouTubeClient]) -> tuple[YouTubeClient, TokenSet]:
    client = make_client(served)
    clients.append(client)
    return client, await connect(client)


@pytest.mark.parametrize(
    ("status", "reason", "message", "kind", "retry_after"),
    [
        (500, "backendError", "", ErrorKind.retry, None),
        (503, "backendError", "", ErrorKind.retry, None),
        (403, "quotaExceeded", "", ErrorKind.retry, 12 * 3600 + 60),
        (403, "dailyLimitExceeded", "", ErrorKind.retry, 12 * 3600 + 60),
        (429, "rateLimitExceeded", "Quota exceeded for 'Video Uploads'", ErrorKind.retry, 43260),
        (429, "rateLimitExceeded", "slow down", ErrorKind.retry, 60),
        (403, "userRateLimitExceeded", "", ErrorKind.retry, 60),
        (400, "uploadLimitExceeded", "", ErrorKind.retry, 24 * 3600),
        (401, "authError", "", ErrorKind.refresh, None),
        (401, "youtubeSignupRequired", "", ErrorKind.reauthorize, None),
        (403, "insufficientPermissions", "", ErrorKind.reauthorize, None),
        (400, "invalidTitle", "", ErrorKind.fail, None),
        (400, "invalidVideoMetadata", "", ErrorKind.fail, None),
        (403, "forbidden", "", ErrorKind.fail, None),
        (403, "forbiddenPrivacySetting", "", ErrorKind.fail, None),
    ],
)
async def test_insert_errors(
    served: Served,
    setup: tuple[YouTubeClient, TokenSet],
    status: int,
    reason: str,
    message: str,
    kind: ErrorKind,
    retry_after: float | None,
) -> None:
    client, tokens = setup
    served.emulator.add_fault(
        Fault(
            endpoint="insert",
            kind=FaultKind.GOOGLE_ERROR,
            status=status,
            reason=reason,
            message=message,
        )
    )

    with pytest.raises(YouTubeError) as caught:
        await client.start_upload(tokens.access_token, META, size=KIB256, content_type="video/mp4")

    error = caught.value
    assert (error.kind, error.stage, error.status) == (kind, "insert", status)
    assert error.retry_after == (pytest.approx(retry_after) if retry_after else None)
    assert isinstance(error, QuotaDeferred) == (retry_after == 43260)
    assert tokens.access_token not in error.message


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (503, "temporarily_unavailable", ErrorKind.retry),
        (400, "invalid_grant", ErrorKind.reauthorize),
        (401, "invalid_client", ErrorKind.fail),
        (400, "unsupported_grant_type", ErrorKind.fail),
    ],
)
async def test_token_errors(
    served: Served,
    setup: tuple[YouTubeClient, TokenSet],
    status: int,
    reason: str,
    kind: ErrorKind,
) -> None:
    client, tokens = setup
    served.emulator.add_fault(
        Fault(endpoint="token", kind=FaultKind.GOOGLE_ERROR, status=status, reason=reason)
    )

    with pytest.raises(YouTubeError) as caught:
        await client.refresh(tokens.refresh_token or "")
    assert (caught.value.kind, caught.value.stage) == (kind, "token")


@pytest.mark.parametrize("endpoint", ["token", "insert", "list"])
@pytest.mark.parametrize("fault", [FaultKind.DROP, FaultKind.HTTP_ERROR])
async def test_network_and_server_failures_are_retried_later(
    served: Served, setup: tuple[YouTubeClient, TokenSet], endpoint: str, fault: FaultKind
) -> None:
    client, tokens = setup
    served.emulator.add_fault(
        Fault(endpoint=endpoint, kind=fault, status=502, phase=FaultPhase.AFTER)
    )

    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "token": lambda: client.refresh(tokens.refresh_token or ""),
        "insert": lambda: client.start_upload(
            tokens.access_token, META, size=KIB256, content_type="video/mp4"
        ),
        "list": lambda: client.video_state(tokens.access_token, "OtTBM61o6p4"),
    }

    with pytest.raises(YouTubeError) as caught:
        await calls[endpoint]()

    assert caught.value.kind is ErrorKind.retry
    assert caught.value.stage == endpoint
    assert caught.value.maybe_applied == (fault is FaultKind.DROP)


async def test_a_chunk_refused_for_good_is_not_retried(
    served: Served, setup: tuple[YouTubeClient, TokenSet]
) -> None:
    client, tokens = setup
    uri = await client.start_upload(
        tokens.access_token, META, size=KIB256, content_type="video/mp4"
    )
    served.emulator.add_fault(
        Fault(
            endpoint="chunk",
            kind=FaultKind.GOOGLE_ERROR,
            status=403,
            reason="forbidden",
            times=None,
        )
    )

    async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
        yield bytes(end - start)

    with pytest.raises(YouTubeError) as caught:
        await client.upload(
            tokens.access_token, uri, size=KIB256, content_type="video/mp4", read_range=read_range
        )
    assert (caught.value.kind, caught.value.stage) == (ErrorKind.fail, "chunk")


async def test_retries_on_chunks_give_up_after_the_budget(
    served: Served, clients: list[YouTubeClient]
) -> None:
    client = make_client(served, max_retries=3)
    clients.append(client)
    tokens = await connect(client)
    uri = await client.start_upload(
        tokens.access_token, META, size=KIB256, content_type="video/mp4"
    )
    fault = served.emulator.add_fault(
        Fault(endpoint="chunk", kind=FaultKind.HTTP_ERROR, status=503, times=None)
    )

    async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
        yield bytes(end - start)

    with pytest.raises(YouTubeError) as caught:
        await client.upload(
            tokens.access_token, uri, size=KIB256, content_type="video/mp4", read_range=read_range
        )
    assert caught.value.kind is ErrorKind.retry
    assert fault.fired == 4  # the first try and three retries


async def test_latency_slows_a_call_without_failing_it(
    served: Served, setup: tuple[YouTubeClient, TokenSet]
) -> None:
    client, tokens = setup
    served.emulator.add_fault(Fault(endpoint="list", kind=FaultKind.LATENCY, seconds=0.3))
    started = time.monotonic()

    assert await client.video_state(tokens.access_token, "OtTBM61o6p4") is None
    assert time.monotonic() - started >= 0.3


async def test_an_error_on_the_nth_call_only(
    served: Served, setup: tuple[YouTubeClient, TokenSet]
) -> None:
    client, tokens = setup
    served.emulator.add_fault(
        Fault(
            endpoint="list", kind=FaultKind.GOOGLE_ERROR, nth=3, status=500, reason="backendError"
        )
    )
    for _ in range(2):
        await client.video_state(tokens.access_token, "OtTBM61o6p4")
    with pytest.raises(YouTubeError):
        await client.video_state(tokens.access_token, "OtTBM61o6p4")
    await client.video_state(tokens.access_token, "OtTBM61o6p4")
