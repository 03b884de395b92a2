"""Recurring series on both databases: DST in Berlin and New York, edit one vs this and
all following, pause, resume, end, and two materialisers never making one occurrence twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.planning.conftest import Planner
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostSeries, SeriesOccurrence
from tiktimer.planning.materialise import materialiser_for

Z = UTC


async def create(planner: Planner, rrule: str, dtstart: str, **extra: object) -> dict:
    body = {
        "rrule": rrule,
        "dtstart": dtstart,
        "post": planner.with_video(content="every time"),
        **extra,
    }
    response = await planner.client.post("/api/v1/series", json=body, headers=planner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def post_times(planner: Planner) -> list[datetime]:
    async with planner.session() as session:
        return list(
            await session.scalars(select(Post.scheduled_time).order_by(Post.scheduled_time))
        )


@pytest.mark.parametrize(
    ("zone_name", "dtstart", "expected"),
    [
        # Berlin spring forward (28 March 2027): 09:00 stays 09:00 local.
        ("Europe/Berlin", "2027-03-27T09:00", ["03-27 08:00", "03-28 07:00", "03-29 07:00"]),
        # ... and 02:30, skipped that night, happens at 03:30 local (RFC 5545).
        ("Europe/Berlin", "2027-03-27T02:30", ["03-27 01:30", "03-28 01:30", "03-29 00:30"]),
        # Berlin fall back (31 October): 02:30 happens twice; the first (CEST) is taken.
        ("Europe/Berlin", "2027-10-30T02:30", ["10-30 00:30", "10-31 00:30", "11-01 01:30"]),
        # New York spring forward (14 March 2027) and fall back (7 November 2027).
        ("America/New_York", "2027-03-13T09:00", ["03-13 14:00", "03-14 13:00", "03-15 13:00"]),
        ("America/New_York", "2027-03-13T02:30", ["03-13 07:30", "03-14 07:30", "03-15 06:30"]),
        ("America/New_York", "2027-11-06T01:30", ["11-06 05:30", "11-07 05:30", "11-08 06:30"]),
    ],
)
async def test_daily_series_across_dst(
    planner: Planner, zone_name: str, dtstart: str, expected: list[str]
) -> None:
    series = await create(planner, "FREQ=DAILY;COUNT=3", dtstart, timezone=zone_name)
    got = [t.strftime("%m-%d %H:%M") for t in await post_times(planner)]
    assert got == expected
    assert [o["status"] for o in series["occurrences"]] == ["scheduled"] * 3
    assert series["timezone"] == zone_name


async def test_default_zone_is_the_users_and_edit_one_stays_its_own(planner: Planner) -> None:
    series = await create(planner, "FREQ=WEEKLY;BYDAY=MO;COUNT=4", "2027-03-22T09:00")
    assert series["timezone"] == "Europe/Berlin"
    ids = [o["post_id"] for o in series["occurrences"]]
    edited = await planner.client.patch(
        f"/posts/{ids[1]}", json={"content": "only this one"}, headers=planner.headers
    )
    assert edited.status_code == 200, edited.text
    deleted = await planner.client.delete(f"/posts/{ids[2]}", headers=planner.headers)
    assert deleted.status_code == 204
    materialiser = materialiser_for(planner.app.state.services.settings, None)
    created = await materialiser.all(planner.app.state.services.sessionmaker, utc_now())
    assert created == 0  # the deleted occurrence is not made again
    async with planner.session() as session:
        contents = list(await session.scalars(select(Post.content).order_by(Post.scheduled_time)))
    assert contents == ["every time", "only this one", "every time"]


async def test_this_and_all_following(planner: Planner) -> None:
    series = await create(planner, "FREQ=DAILY;COUNT=5", "2027-03-26T09:00")
    ids = [o["post_id"] for o in series["occurrences"]]
    response = await planner.client.post(
        f"/api/v1/series/{series['id']}/split",
        json={
            "from_post_id": ids[2],
            "rrule": "FREQ=DAILY;COUNT=2",
            "dtstart": "2027-03-28T10:15",
            "post": {"content": "from now on"},  # the changes: the video stays
        },
        headers=planner.headers,
    )
    assert response.status_code == 200, response.text
    successor = response.json()
    assert successor["id"] != series["id"]
    async with planner.session() as session:
        rows = (
            await session.execute(
                select(Post.scheduled_time, Post.content).order_by(Post.scheduled_time)
            )
        ).all()
    assert [(t.strftime("%m-%d %H:%M"), c) for t, c in rows] == [
        ("03-26 08:00", "every time"),
        ("03-27 08:00", "every time"),
        ("03-28 08:15", "from now on"),  # 10:15 CEST, the day the clocks change
        ("03-29 08:15", "from now on"),
    ]
    old = await planner.client.get(f"/api/v1/series/{series['id']}", headers=planner.headers)
    assert old.json()["until_at"].startswith("2027-03-28T07:00")


async def test_pause_resume_and_end(planner: Planner) -> None:
    series = await create(planner, "FREQ=DAILY;COUNT=3", "2027-05-01T09:00")
    base = f"/api/v1/series/{series['id']}"
    paused = (await planner.client.post(f"{base}/pause", headers=planner.headers)).json()
    assert paused["status"] == "paused"
    assert [o["status"] for o in paused["occurrences"]] == ["cancelled"] * 3
    assert all(o["held"] for o in paused["occurrences"])
    again = await planner.client.post(f"{base}/pause", headers=planner.headers)
    assert again.status_code == 409
    resumed = (await planner.client.post(f"{base}/resume", headers=planner.headers)).json()
    assert resumed["status"] == "active"
    assert [o["status"] for o in resumed["occurrences"]] == ["scheduled"] * 3
    ended = (await planner.client.post(f"{base}/end", headers=planner.headers)).json()
    assert ended["status"] == "ended"
    assert ended["occurrences"] == []
    assert await post_times(planner) == []


async def test_two_materialisers_make_each_occurrence_once(planner: Planner) -> None:
    series = await create(planner, "FREQ=DAILY;COUNT=1", "2027-06-01T09:00")
    services = planner.app.state.services
    async with planner.session() as session, session.begin():
        # Widen the rule: the occurrences to come exist nowhere yet.
        stored = await session.get(PostSeries, series["id"])
        assert stored is not None
        stored.rrule = "FREQ=DAILY;COUNT=20"
    materialiser = materialiser_for(services.settings, None)
    now = utc_now()
    made = await asyncio.gather(*(materialiser.all(services.sessionmaker, now) for _ in range(4)))
    assert sum(made) == 19
    async with planner.session() as session:
        posts = await session.scalar(select(func.count()).select_from(Post))
        occurrences = await session.scalar(select(func.count()).select_from(SeriesOccurrence))
        distinct = await session.scalar(select(func.count(func.distinct(Post.scheduled_time))))
    assert posts == occurrences == distinct == 20


async def test_bad_rules_are_422_naming_the_field(planner: Planner) -> None:
    for rrule, field in (
        ("FREQ=MINUTELY", "rrule"),
        ("BYDAY=MO", "rrule"),
        ("FREQ=DAILY;UNTIL=20200101T000000Z", "rrule"),
        ("FREQ=SOMETIMES", "rrule"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "rrule"),  # never: refused at once
        ("FREQ=DAILY;COUNT=0", "rrule"),
        ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0,5", "rrule"),  # too close together
        ("FREQ=DAILY;COUNT=2;UNTIL=20271231", "rrule"),
    ):
        body = {
            "rrule": rrule,
            "dtstart": "2027-01-01T09:00",
            "post": planner.with_video(content="x"),
        }
        response = await planner.client.post("/api/v1/series", json=body, headers=planner.headers)
        assert response.status_code == 422, (rrule, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    body = {
        "rrule": "FREQ=DAILY",
        "dtstart": "2027-01-01T09:00",
        "timezone": "Nowhere/City",
        "post": planner.with_video(content="x"),
    }
    response = await planner.client.post("/api/v1/series", json=body, headers=planner.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "timezone"]
    assert (
        await planner.client.get("/api/v1/series/77", headers=planner.headers)
    ).status_code == 404
    old = {
        "rrule": "FREQ=DAILY",
        "dtstart": "2020-01-01T09:00",
        "post": planner.with_video(content="x"),
    }
    response = await planner.client.post("/api/v1/series", json=old, headers=planner.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "dtstart"]


async def test_until_as_a_local_date_includes_that_day(planner: Planner) -> None:
    await create(planner, "FREQ=DAILY;UNTIL=20270328", "2027-03-27T23:30")
    got = [t.strftime("%m-%d %H:%M") for t in await post_times(planner)]
    assert got == ["03-27 22:30", "03-28 21:30"]  # 23:30 CET, then 23:30 CEST
