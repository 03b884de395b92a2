"""Every error class mapped to what the scheduler does next: retry, refresh, reauthorize,
reinitialize or fail; scripted faults over the socket included."""

from __future__ import annotations

import pytest

from tests.instagram.conftest import VIDEO_URL, Instagram
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.instagram.emulator import Fault, FaultKind, FaultPhase
from tiktimer.platforms.instagram.errors import (
    GraphFailure,
    InstagramError,
    classify,
    container_failure,
)
from tiktimer.platforms.instagram.graph_api import regain_seconds
from tiktimer.platforms.instagram.schemas import Reel

R, F, A, RE, X = (
    ErrorKind.retry,
    ErrorKind.refresh,
    ErrorKind.reauthorize,
    ErrorKind.reinitialize,
    ErrorKind.fail,
)


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (-2, 2207003, R),
        (-2, 2207020, RE),
        (-1, 2207001, X),
        (-1, 2207032, RE),
        (-1, 2207053, RE),
        (1, 2207057, X),
        (1, None, R),
        (2, None, R),
        (4, 2207051, X),
        (4, None, R),
        (17, None, R),
        (32, None, R),
        (613, None, R),
        (9, 2207042, R),
        (24, 2207006, RE),
        (24, 2207008, RE),
        (25, 2207050, A),
        (100, 2207023, X),
        (100, 2207040, X),
        (100, 2207089, X),
        (352, 2207026, X),
        (9004, 2207052, X),
        (9007, 2207027, R),
        (36001, 2207005, X),
        (36004, 2207010, X),
        (190, None, F),
        (190, 467, F),
        (190, 458, A),
        (190, 459, A),
        (190, 460, A),
        (190, 463, A),
        (190, 464, A),
        (10, None, A),
        (200, None, A),
        (12345, None, X),
    ],
)
def test_classification(code: int, subcode: int | None, kind: ErrorKind) -> None:
    error = classify(GraphFailure(code, subcode, "m", False, 400))
    assert error.kind is kind
    assert error.code == (f"{code}/{subcode}" if subcode else str(code))


def test_transient_flags_and_bare_5xx_are_retried() -> None:
    assert classify(GraphFailure(777, None, "m", True, 400)).kind is R
    assert classify(GraphFailure(None, None, "HTTP 502", False, 502)).kind is R
    assert classify(GraphFailure(None, None, "HTTP 404", False, 404)).kind is X


@pytest.mark.parametrize(
    ("text", "kind", "subcode"),
    [
        ("Error: Media upload has failed with error code 2207082", X, 2207082),
        ("Error: Media upload has failed with error code 2207085", X, 2207085),
        ("Error: Media upload has failed with error code 2207077", RE, 2207077),
        ("Error: something else", X, None),
        (None, X, None),
    ],
)
def test_container_errors(text: str | None, kind: ErrorKind, subcode: int | None) -> None:
    error = container_failure(text)
    assert (error.kind, error.subcode) == (kind, subcode)
    assert "error code" not in error.message  # words, not Meta's raw text


async def test_a_5xx_on_create_may_have_made_a_container(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    instagram.emulator.add_fault(
        Fault(
            endpoint="create_container",
            kind=FaultKind.HTTP_ERROR,
            status=500,
            phase=FaultPhase.AFTER,
        )
    )
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    assert (caught.value.kind, caught.value.maybe_applied) == (R, True)
    assert len(await instagram.emulator.containers()) == 1  # harmless: it expires unpublished


async def test_a_hang_is_a_retry(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    instagram.emulator.add_fault(Fault(endpoint="me", kind=FaultKind.HANG, seconds=3.0))
    with pytest.raises(InstagramError) as caught:
        await instagram.client.account(tokens)
    assert caught.value.kind is R


async def test_latency_is_only_slow(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    instagram.emulator.add_fault(Fault(endpoint="me", kind=FaultKind.LATENCY, seconds=0.2))
    assert (await instagram.client.account(tokens)).username == "studio"
    assert instagram.emulator.requests("me")[-1].fault is None


async def test_an_error_code_on_the_nth_call(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    instagram.emulator.add_fault(
        Fault(endpoint="me", kind=FaultKind.GRAPH_ERROR, nth=2, code=190, subcode=460)
    )
    await instagram.client.account(tokens)
    with pytest.raises(InstagramError) as caught:
        await instagram.client.account(tokens)
    assert (caught.value.kind, caught.value.code) == (A, "190/460")
    await instagram.client.account(tokens)


async def test_a_5xx_on_the_token_refresh_is_a_retry(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    instagram.emulator.clock.advance(2 * 86_400)
    instagram.emulator.add_fault(Fault(endpoint="refresh", kind=FaultKind.HTTP_ERROR, status=503))
    with pytest.raises(InstagramError) as caught:
        await instagram.client.refresh(tokens)
    assert caught.value.kind is R
    assert (await instagram.client.refresh(tokens)).access_token != tokens.access_token


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("not json", None),
        ('{"1": [{"estimated_time_to_regain_access": 0}]}', None),
        ('{"1": [{"estimated_time_to_regain_access": 7}, {"x": 1}], "2": "odd"}', 420.0),
    ],
)
def test_the_usage_header_tells_how_long_to_wait(header: str | None, seconds: float | None) -> None:
    assert regain_seconds(header) == seconds
