"""A Reel through the contract's steps against the emulator, published exactly once."""

from __future__ import annotations

import pytest

from tests.instagram.conftest import VIDEO_URL, Instagram
from tests.instagram.videos import reel_mp4
from tiktimer.platforms.contract import ErrorKind, OutcomeState
from tiktimer.platforms.instagram.client import POLL_INTERVAL
from tiktimer.platforms.instagram.emulator import Fault, FaultKind, FaultPhase
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.reels import check_reel, start_reel
from tiktimer.platforms.instagram.schemas import ContainerStatusCode, Reel

DAY = 86_400.0


async def test_create_finish_publish(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    reel = Reel(
        VIDEO_URL, caption="Morning #light @maker", share_to_feed=False, thumb_offset_ms=2500
    )
    container = await start_reel(instagram.client, tokens, user_id, reel)

    early = await check_reel(instagram.client, tokens, user_id, container)
    assert early.state is OutcomeState.processing
    instagram.emulator.clock.advance(31)
    outcome = await check_reel(instagram.client, tokens, user_id, container)

    (media,) = await instagram.emulator.media()
    assert outcome.state is OutcomeState.published
    assert outcome.post_ids == [media.id]
    assert (media.caption, media.share_to_feed, media.thumb_offset) == (
        "Morning #light @maker",
        False,
        2500,
    )
    again = await check_reel(instagram.client, tokens, user_id, container)
    assert again.state is OutcomeState.published
    assert len(await instagram.emulator.media()) == 1
    facts = await instagram.http.get(
        f"/v25.0/{media.id}",
        params={"fields": "media_product_type,media_type"},
        headers={"Authorization": f"Bearer {tokens.access_token.get_secret_value()}"},
    )
    assert facts.json() == {"media_product_type": "REELS", "media_type": "VIDEO"}


async def test_polling_keeps_meta_s_pace(instagram: Instagram) -> None:
    instagram.emulator.configure(processing_seconds=150.0)
    tokens, user_id = await instagram.login()
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))

    status = await instagram.client.wait_until_processed(tokens, container)

    assert status.status_code is ContainerStatusCode.FINISHED
    (record,) = await instagram.emulator.containers()
    assert record.status_polls == 4  # 0, 60, 120, 180 s
    assert POLL_INTERVAL == 60.0


async def test_polling_stops_after_five_minutes(instagram: Instagram) -> None:
    instagram.emulator.configure(processing_seconds=900.0)
    tokens, user_id = await instagram.login()
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))

    status = await instagram.client.wait_until_processed(tokens, container)

    assert status.status_code is ContainerStatusCode.IN_PROGRESS
    assert (await instagram.emulator.containers())[0].status_polls == 6


async def test_an_expired_container_is_made_again_and_published_once(
    instagram: Instagram,
) -> None:
    tokens, user_id = await instagram.login()
    first = await start_reel(instagram.client, tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(DAY + 1)  # the scheduler was away for a day

    with pytest.raises(InstagramError) as caught:
        await check_reel(instagram.client, tokens, user_id, first)
    assert caught.value.kind is ErrorKind.reinitialize
    second = await start_reel(instagram.client, tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)
    outcome = await check_reel(instagram.client, tokens, user_id, second)

    assert outcome.state is OutcomeState.published
    (media,) = await instagram.emulator.media()
    assert media.container_id == second
    assert await instagram.emulator.container_status(first) == "EXPIRED"


async def test_publishing_an_expired_container_is_refused(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(DAY)

    with pytest.raises(InstagramError) as caught:
        await instagram.client.publish(tokens, user_id, container)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.reinitialize, "24/2207008")
    assert await instagram.emulator.media() == []


async def test_a_lost_publish_answer_is_read_from_the_status(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    container = await start_reel(instagram.client, tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)
    instagram.emulator.add_fault(
        Fault(endpoint="media_publish", kind=FaultKind.DROP, phase=FaultPhase.AFTER)
    )

    outcome = await check_reel(instagram.client, tokens, user_id, container)

    assert outcome.state is OutcomeState.published
    assert outcome.post_ids == []
    assert len(await instagram.emulator.media()) == 1
    assert len(instagram.emulator.requests("media_publish")) == 1


async def test_a_lost_answer_then_a_failed_status_read_still_publishes_once(
    instagram: Instagram,
) -> None:
    tokens, user_id = await instagram.login()
    container = await start_reel(instagram.client, tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)
    instagram.emulator.add_fault(
        Fault(
            endpoint="media_publish", kind=FaultKind.HTTP_ERROR, status=503, phase=FaultPhase.AFTER
        )
    )
    instagram.emulator.add_fault(Fault(endpoint="node", kind=FaultKind.DROP, nth=2))

    with pytest.raises(InstagramError) as caught:
        await check_reel(instagram.client, tokens, user_id, container)
    assert caught.value.kind is ErrorKind.retry
    assert caught.value.maybe_applied
    retried = await check_reel(instagram.client, tokens, user_id, container)

    assert retried.state is OutcomeState.published
    assert len(await instagram.emulator.media()) == 1
    assert len(instagram.emulator.requests("media_publish")) == 1


async def test_publishing_twice_never_makes_two_media(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)
    await instagram.client.publish(tokens, user_id, container)

    with pytest.raises(InstagramError):
        await instagram.client.publish(tokens, user_id, container)
    assert len(await instagram.emulator.media()) == 1


async def test_publishing_before_processing_ends_is_refused(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))

    with pytest.raises(InstagramError) as caught:
        await instagram.client.publish(tokens, user_id, container)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, "9007/2207027")


@pytest.mark.parametrize(
    ("content", "subcode"),
    [
        (b"not a video at all", 2207026),
        (reel_mp4(moov_first=False), 2207026),
        (reel_mp4(seconds=2), 2207085),
        (reel_mp4(seconds=901), 2207085),
    ],
)
async def test_a_video_processing_refuses_ends_the_post(
    instagram: Instagram, content: bytes, subcode: int
) -> None:
    url = "https://media.tiktimer.test/bad.mp4"
    instagram.emulator.register_media(url, content)
    tokens, user_id = await instagram.login()
    container = await start_reel(instagram.client, tokens, user_id, Reel(url))
    instagram.emulator.clock.advance(31)

    with pytest.raises(InstagramError) as caught:
        await check_reel(instagram.client, tokens, user_id, container)
    assert (caught.value.kind, caught.value.subcode) == (ErrorKind.fail, subcode)


async def test_a_cover_frame_past_the_end_is_refused(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL, thumb_offset_ms=12_000))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.fail, "1/2207057")


async def test_a_cover_image_must_be_a_jpeg(instagram: Instagram) -> None:
    instagram.emulator.register_media("https://media.tiktimer.test/c.jpg", b"\xff\xd8\xff\xe0xx")
    instagram.emulator.register_media("https://media.tiktimer.test/c.png", b"\x89PNGxxxx")
    tokens, user_id = await instagram.login()
    good = Reel(VIDEO_URL, cover_url="https://media.tiktimer.test/c.jpg", thumb_offset_ms=99_000)
    await instagram.client.create_reel(tokens, user_id, good)  # cover_url wins over the offset
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(
            tokens, user_id, Reel(VIDEO_URL, cover_url="https://media.tiktimer.test/c.png")
        )
    assert caught.value.code == "36001/2207005"


async def test_a_personal_account_is_found_at_connect_and_cannot_publish(
    instagram: Instagram,
) -> None:
    tokens, user_id = await instagram.login("friend")
    facts = await instagram.client.account(tokens)
    assert (facts.account_type, facts.professional) == ("PERSONAL", False)

    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    assert caught.value.kind is ErrorKind.reauthorize


async def test_publishing_needs_the_user_id_not_the_app_scoped_id(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    scoped = (
        await instagram.http.get(
            "/me", params={"fields": "id", "access_token": tokens.access_token.get_secret_value()}
        )
    ).json()["id"]
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, scoped, Reel(VIDEO_URL))
    assert caught.value.kind is ErrorKind.fail
