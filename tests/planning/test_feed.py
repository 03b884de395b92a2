"""The private calendar feed on both databases: token only hashed, revocable, rotating,
and valid iCalendar text (escaped, folded at 75 octets, CRLF)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.planning.conftest import Planner
from tiktimer.models import CalendarFeed
from tiktimer.planning.ical import Event, calendar, fold


async def new_feed(planner: Planner) -> tuple[str, str]:
    response = await planner.client.post("/api/v1/calendar/feed", headers=planner.headers)
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    token = parse_qs(urlsplit(url).query)["token"][0]
    return url, token


async def test_feed_lists_posts_and_the_token_is_only_stored_hashed(planner: Planner) -> None:
    await planner.post(
        "Morning, video; with, commas\nand a line", draft=False, at="2027-02-01T08:00:00Z"
    )
    await planner.post("a draft stays out", draft=True)
    url, token = await new_feed(planner)
    assert url.startswith("http://tiktimer.test/api/v1/calendar/feed.ics?token=")
    feed = await planner.client.get(url)  # no Authorization: the token is the key
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    text = feed.text
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20270201T080000Z" in text
    assert "Morning\\, video\\; with\\, commas and a line" in text.replace("\r\n ", "")
    assert "a draft" not in text
    async with planner.session() as session:
        stored = list(await session.scalars(select(CalendarFeed.token_hash)))
    assert len(stored) == 1
    assert token not in stored[0]
    assert len(stored[0]) == 64
    state = await planner.client.get("/api/v1/calendar/feed", headers=planner.headers)
    assert state.json()["active"] is True
    assert token not in state.text


async def test_feed_rotates_and_revokes(planner: Planner) -> None:
    first, _ = await new_feed(planner)
    second, _ = await new_feed(planner)
    assert (await planner.client.get(first)).status_code == 404
    assert (await planner.client.get(second)).status_code == 200
    revoked = await planner.client.delete("/api/v1/calendar/feed", headers=planner.headers)
    assert revoked.status_code == 204
    gone = await planner.client.get(second)
    assert gone.status_code == 404
    assert gone.json() == {"detail": "No such calendar feed"}
    again = await planner.client.delete("/api/v1/calendar/feed", headers=planner.headers)
    assert again.status_code == 404
    bare = await planner.client.get("/api/v1/calendar/feed.ics")
    assert bare.status_code == 422
    state = await planner.client.get("/api/v1/calendar/feed", headers=planner.headers)
    assert state.json() == {"active": False, "created_at": None}


def test_lines_fold_at_75_octets_without_splitting_characters() -> None:
    line = "SUMMARY:" + "🎬é" * 60
    folded = fold(line)
    physical = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in physical)
    assert all(part.startswith(" ") for part in physical[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(physical)) == line
    now = datetime(2027, 1, 1, tzinfo=UTC)
    event = Event("post-1@x", now, 15, "a" * 200, "b\nc", None, "CONFIRMED")
    text = calendar("name", [event], now)
    assert all(len(p.encode()) <= 75 for p in text.split("\r\n"))
    assert "DESCRIPTION:b\\nc" in text
