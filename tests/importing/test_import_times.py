"""Times in an import file: offsets taken as given, naive times read in the user's zone, and
the wall-clock times a DST change skips or repeats reported as the row's problem."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI

from tests.importing.helpers import csv_bytes, library_video, problems_by_row, send, statuses


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


async def test_times_around_berlins_dst_changes(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    year = datetime.now(UTC).year + 1
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    media = await library_video(app, alice_id, "clip.mp4")
    good = {"account": str(account), "media": media, "privacy": "SELF_ONLY"}
    times = [
        f"{spring}T01:30",  # CET, +01:00
        f"{spring}T02:30",  # skipped
        f"{spring}T03:30",  # CEST, +02:00
        f"{autumn}T02:30",  # repeated
        f"{autumn}T02:30+01:00",  # the second 02:30, told by its offset
        f"{autumn}T09:00Z",
    ]
    rows = [{"caption": f"at {t}", "time": t, **good} for t in times]
    response = await send(client, alice, csv_bytes(rows), mode="rows")
    assert response.status_code == 200, response.text
    report = response.json()
    assert problems_by_row(report) == {3: {"time"}, 5: {"time"}}
    messages = {p["row"]: p["message"] for p in report["problems"]}
    assert "does not exist in Europe/Berlin" in messages[3]
    assert "ambiguous in Europe/Berlin" in messages[5]
    created = {row["row"]: row["post_id"] for row in report["rows"] if row["post_id"]}
    assert sorted(created) == [2, 4, 6, 7]
    posts = {p["id"]: p for p in (await client.get("/posts/", headers=alice)).json()}
    utc = {
        row: datetime.fromisoformat(posts[pid]["scheduled_time"]) for row, pid in created.items()
    }
    assert utc[2] == datetime(year, 3, spring.day, 0, 30, tzinfo=UTC)
    assert utc[4] == datetime(year, 3, spring.day, 1, 30, tzinfo=UTC)
    assert utc[6] == datetime(year, 10, autumn.day, 1, 30, tzinfo=UTC)
    assert utc[7] == datetime(year, 10, autumn.day, 9, 0, tzinfo=UTC)
    assert statuses(report)[3] == "invalid"
