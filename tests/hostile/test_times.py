"""Times outside what both databases store are 422, never an OverflowError (500).

Accepted: 0001-01-03 to 9999-12-29 in UTC (a day of margin at each end, so any time zone
and TikTok's 24-hour windows stay inside years 1-9999).
"""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.users import user_headers

OUT_OF_RANGE = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "0001-01-02T23:59:59Z",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-30T00:00:00Z",
    "0001-01-01T00:00:00",  # naive: read in the user's zone
    "9999-12-31T23:00:00",
]


def is_range_error(response: httpx.Response, *loc: str) -> None:
    assert response.status_code == 422, response.text
    assert {"loc": list(loc), "type": "datetime_range"} in [
        {"loc": e["loc"], "type": e["type"]} for e in response.json()["detail"]
    ]


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Pacific/Kiritimati", "America/Adak"])
async def test_times_near_year_1_and_9999_are_refused(client: httpx.AsyncClient, zone: str) -> None:
    headers = await user_headers(client, zone.split("/")[1].lower(), timezone=zone)
    for value in OUT_OF_RANGE:
        for draft in (False, True):
            body = {"content": "x", "scheduled_time": value, "draft": draft}
            is_range_error(
                await client.post("/posts/", json=body, headers=headers), "body", "scheduled_time"
            )
        is_range_error(
            await client.post(
                "/api/v1/tiktok/posts/validate",
                json={"content": "x", "scheduled_time": value},
                headers=headers,
            ),
            "body",
            "scheduled_time",
        )
    assert (await client.get("/posts/", headers=headers)).json() == []


async def test_the_edges_of_the_range_are_stored_and_read_back(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice", timezone="Pacific/Kiritimati")
    early = {"content": "x", "scheduled_time": "0001-01-03T00:00:00Z", "draft": True}
    # A draft: a post that would go out needs its video and account (issue 13).
    late = {"content": "y", "scheduled_time": "9999-12-29T23:59:59Z", "draft": True}
    naive = {"content": "z", "scheduled_time": "9999-12-29T23:59:59", "draft": True}
    for body in (early, late, naive):
        created = await client.post("/posts/", json=body, headers=headers)
        assert created.status_code == 201, (body, created.text)
    listed = await client.get("/posts/", headers=headers)
    times = [p["scheduled_time"] for p in listed.json()]
    assert times[0] == "0001-01-03T00:00:00Z"
    assert "9999-12-29T23:59:59Z" in times
    moved = await client.patch(
        f"/posts/{listed.json()[0]['id']}",
        json={"scheduled_time": "9999-12-31T23:59:59-05:00"},
        headers=headers,
    )
    is_range_error(moved, "body", "scheduled_time")


async def test_filters_refuse_out_of_range_times_and_read_naive_ones_as_utc(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    for name in ("scheduled_from", "scheduled_to"):
        for value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
            response = await client.get("/posts/", params={name: value}, headers=headers)
            is_range_error(response, "query", name)
    body = {"content": "x", "scheduled_time": "2031-06-01T12:00:00Z", "draft": True}
    assert (await client.post("/posts/", json=body, headers=headers)).status_code == 201
    hit = await client.get(
        "/posts/",
        params={"scheduled_from": "2031-06-01T12:00:00", "scheduled_to": "2031-06-01T12:00:00"},
        headers=headers,
    )
    assert hit.status_code == 200, hit.text
    assert len(hit.json()) == 1
    miss = await client.get(
        "/posts/", params={"scheduled_from": "2031-06-01T12:00:01"}, headers=headers
    )
    assert miss.json() == []
