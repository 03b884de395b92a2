"""Caption limits (§8): the client refuses before calling; the emulator refuses too."""

from __future__ import annotations

import pytest

from tests.instagram.conftest import VIDEO_URL, Instagram
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.instagram.captions import caption_problems
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.schemas import Reel

TOO_LONG = "é" * 2201
HASHTAGS = " ".join(f"#tag{n}" for n in range(31))
MENTIONS = " ".join(f"@user{n}" for n in range(21))


def test_limits_are_exact() -> None:
    assert caption_problems("é" * 2200) == []
    assert caption_problems(" ".join(f"#t{n}" for n in range(30))) == []
    assert caption_problems(" ".join(f"@u{n}" for n in range(20))) == []
    assert caption_problems("mail me: a@b.com &#39; issue#3") == []
    assert caption_problems(TOO_LONG) == ["The caption has 2201 characters; Instagram allows 2200."]


@pytest.mark.parametrize("caption", [TOO_LONG, HASHTAGS, MENTIONS])
async def test_the_client_refuses_before_any_call(instagram: Instagram, caption: str) -> None:
    tokens, user_id = await instagram.login()
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL, caption=caption))
    assert caught.value.kind is ErrorKind.fail
    assert instagram.emulator.requests("create_container") == []


@pytest.mark.parametrize(
    ("caption", "code", "subcode"),
    [(TOO_LONG, 36004, 2207010), (HASHTAGS, 100, None), (MENTIONS, 100, 2207040)],
)
async def test_the_emulator_refuses_them_too(
    instagram: Instagram, caption: str, code: int, subcode: int | None
) -> None:
    tokens, user_id = await instagram.login()
    response = await instagram.http.post(
        f"/v25.0/{user_id}/media",
        data={
            "media_type": "REELS",
            "video_url": VIDEO_URL,
            "caption": caption,
            "access_token": tokens.access_token.get_secret_value(),
        },
    )
    error = response.json()["error"]
    assert response.status_code == 400
    assert (error["code"], error.get("error_subcode")) == (code, subcode)
    assert await instagram.emulator.containers() == []


@pytest.mark.parametrize(
    ("fields", "code", "subcode"),
    [
        ({"media_type": "VIDEO", "video_url": VIDEO_URL}, 100, 2207089),
        ({"media_type": "SOMETHING", "video_url": VIDEO_URL}, 100, 2207023),
        ({"media_type": "REELS"}, 100, None),
        ({"media_type": "REELS", "upload_type": "RESUMABLE"}, 100, None),
        ({"media_type": "REELS", "upload_type": "resumable"}, 100, None),
        ({"media_type": "REELS", "video_url": "https://média.test/v.mp4"}, 9004, 2207052),
        ({"media_type": "REELS", "video_url": VIDEO_URL, "alt_text": "x"}, 100, None),
        ({"media_type": "REELS", "video_url": VIDEO_URL, "share_to_feed": "yes"}, 100, None),
        (
            {"media_type": "REELS", "video_url": VIDEO_URL, "collaborators": '["a","b","c","d"]'},
            100,
            None,
        ),
    ],
)
async def test_container_parameters_are_strict(
    instagram: Instagram, fields: dict[str, str], code: int, subcode: int | None
) -> None:
    tokens, user_id = await instagram.login()
    response = await instagram.http.post(
        f"/v25.0/{user_id}/media",
        data=fields | {"access_token": tokens.access_token.get_secret_value()},
    )
    error = response.json()["error"]
    assert (error["code"], error.get("error_subcode")) == (code, subcode)
    assert set(error) >= {"message", "type", "code", "is_transient", "fbtrace_id"}


async def test_an_unknown_version_is_refused_and_none_is_fine(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    params = {"fields": "username", "access_token": tokens.access_token.get_secret_value()}
    assert (await instagram.http.get("/v99.0/me", params=params)).status_code == 400
    assert (await instagram.http.get("/me", params=params)).json() == {"username": "studio"}
