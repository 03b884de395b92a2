"""The posting queue on both databases: slots, add, share next, move, remove, re-flow,
wall-clock slots across DST, a slot in a skipped hour, a post already publishing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.planning.conftest import Planner
from tests.publishing.helpers import connect_creator
from tiktimer.models import Post, QueuedPost
from tiktimer.planning import queue as queues
from tiktimer.planning.wallclock import zone

BERLIN = zone("Europe/Berlin")


async def put_slots(planner: Planner, slots: list[dict[str, str]], **extra: object) -> dict:
    response = await planner.client.put(
        f"/api/v1/accounts/{planner.account_id}/queue/slots",
        json={"slots": slots, **extra},
        headers=planner.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def add(planner: Planner, post_id: int, position: str = "last") -> dict:
    response = await planner.client.post(
        f"/api/v1/accounts/{planner.account_id}/queue",
        json={"post_id": post_id, "position": position},
        headers=planner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def local(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%a %H:%M")


async def test_add_takes_the_next_free_slot_and_share_next_takes_the_head(
    planner: Planner,
) -> None:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    slots = [{"day": d, "time": t} for d in weekdays for t in ("09:00", "18:30")]
    view = await put_slots(planner, slots)
    assert view["timezone"] == "Europe/Berlin"
    assert view["timezone_setting"] is None
    assert len(view["slots"]) == 10
    first, second, third = [await planner.post(f"p{i}") for i in range(3)]
    for post_id in (first, second):
        await add(planner, post_id)
    view = await add(planner, third, "next")
    times = await planner.times()
    order = sorted((first, second, third), key=lambda pid: times[pid][0])
    assert order == [third, first, second]
    for pid in (first, second, third):
        assert times[pid][1] == "scheduled"
        assert local(times[pid][0]).split()[0] in ("Mon", "Tue", "Wed", "Thu", "Fri")
        assert local(times[pid][0]).split()[1] in ("09:00", "18:30")
    entries = [e for e in view["upcoming"] if e["post"]]
    assert [e["post"]["id"] for e in entries] == [third, first, second]
    assert all(e["slot"] and e["post"]["queued"] for e in entries)
    assert entries[0]["local_time"].endswith("+01:00")  # winter time in Berlin


async def test_slots_are_wall_clock_across_spring_forward_with_a_skipped_hour(
    planner: Planner,
) -> None:
    """Sunday 28 March 2027: Berlin jumps from 02:00 to 03:00. A 02:30 slot happens at
    03:30 local (RFC 5545's rule), a 09:00 slot stays 09:00 local (an hour earlier in UTC)."""
    saturday = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    async with planner.session() as session, session.begin():
        await queues.set_slots(
            session, planner.user, planner.account_id, timezone=None, slots=[(6, 150), (6, 540)]
        )
    posts = [await planner.post(f"p{i}") for i in range(4)]
    for post_id in posts:
        async with planner.session() as session, session.begin():
            await queues.add(
                session,
                planner.posts,
                planner.user,
                planner.account_id,
                post_id,
                head=False,
                now=saturday,
            )
    times = await planner.times()
    got = [times[pid][0] for pid in posts]
    assert got == [
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # 03:30 CEST: the skipped 02:30
        datetime(2027, 3, 28, 7, 0, tzinfo=UTC),  # 09:00 CEST
        datetime(2027, 4, 4, 0, 30, tzinfo=UTC),  # 02:30 CEST
        datetime(2027, 4, 4, 7, 0, tzinfo=UTC),  # 09:00 CEST
    ]
    assert datetime(2027, 3, 21, 8, 0, tzinfo=UTC).astimezone(BERLIN).hour == 9  # CET before


async def test_reflow_never_moves_a_post_that_is_publishing(planner: Planner) -> None:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    await put_slots(planner, [{"day": d, "time": "09:00"} for d in days])
    a, b, c = [await planner.post(name) for name in "abc"]
    for post_id in (a, b, c):
        await add(planner, post_id)
    before = await planner.times()
    async with planner.session() as session, session.begin():
        await session.execute(
            update(Post).where(Post.id == a).values(status="publishing", publish_stage="uploading")
        )
    base = f"/api/v1/accounts/{planner.account_id}/queue"
    refused = await planner.client.delete(f"{base}/{a}?reflow=true", headers=planner.headers)
    assert refused.status_code == 409
    removed = await planner.client.delete(f"{base}/{b}?reflow=true", headers=planner.headers)
    assert removed.status_code == 204
    after = await planner.times()
    assert after[a] == (before[a][0], "publishing")
    assert after[b][1] == "draft"
    assert after[c] == (before[b][0], "scheduled")  # moved up into b's slot
    d = await planner.post("d")
    await add(planner, d, "next")  # the head: the first slot nobody publishing holds
    after = await planner.times()
    assert after[a][0] == before[a][0]
    assert after[d][0] == before[b][0]
    assert after[c][0] == before[c][0]
    moved = await planner.client.post(
        f"{base}/{c}/move", json={"position": 0}, headers=planner.headers
    )
    assert moved.status_code == 200, moved.text
    after = await planner.times()
    assert (after[c][0], after[d][0], after[a][0]) == (before[b][0], before[c][0], before[a][0])
    cannot = await planner.client.post(
        f"{base}/{a}/move", json={"position": 0}, headers=planner.headers
    )
    assert cannot.status_code == 409


async def test_reflow_closes_gaps_on_request_only(planner: Planner) -> None:
    await put_slots(planner, [{"day": d, "time": "12:00"} for d in ("mon", "wed", "fri")])
    posts = [await planner.post(f"p{i}") for i in range(3)]
    for post_id in posts:
        await add(planner, post_id)
    before = await planner.times()
    base = f"/api/v1/accounts/{planner.account_id}/queue"
    await planner.client.delete(f"{base}/{posts[0]}", headers=planner.headers)
    kept = await planner.times()
    assert kept[posts[1]][0] == before[posts[1]][0]  # no re-flow asked: a gap stays
    response = await planner.client.post(f"{base}/reflow", headers=planner.headers)
    assert response.status_code == 200
    after = await planner.times()
    assert after[posts[1]][0] == before[posts[0]][0]
    assert after[posts[2]][0] == before[posts[1]][0]
    # New slots with reflow: the queued posts follow them, in their order.
    view = await put_slots(
        planner, [{"day": "sat", "time": "07:15"}], timezone="America/New_York", reflow=True
    )
    assert view["timezone"] == "America/New_York"
    after = await planner.times()
    ny = zone("America/New_York")
    for pid in posts[1:]:
        assert after[pid][0].astimezone(ny).strftime("%a %H:%M") == "Sat 07:15"
    assert after[posts[2]][0] - after[posts[1]][0] == timedelta(days=7)


async def test_queue_refusals(planner: Planner) -> None:
    base = f"/api/v1/accounts/{planner.account_id}/queue"
    post_id = await planner.post("x")
    no_slots = await planner.client.post(base, json={"post_id": post_id}, headers=planner.headers)
    assert no_slots.status_code == 409
    for bad in (
        {"slots": [{"day": "mon", "time": "25:00"}]},
        {"slots": [{"day": "someday", "time": "09:00"}]},
        {"slots": [], "timezone": "Mars/Olympus"},
    ):
        response = await planner.client.put(f"{base}/slots", json=bad, headers=planner.headers)
        assert response.status_code == 422, (bad, response.text)
        assert "detail" in response.json()
    await put_slots(planner, [{"day": "mon", "time": "09:00"}])
    await add(planner, post_id)
    again = await planner.client.post(base, json={"post_id": post_id}, headers=planner.headers)
    assert again.status_code == 409
    other = await planner.client.get("/api/v1/accounts/999/queue", headers=planner.headers)
    assert other.status_code == 404
    missing = await planner.client.delete(f"{base}/{post_id + 50}", headers=planner.headers)
    assert missing.status_code == 404


async def test_concurrent_adds_take_different_slots(planner: Planner) -> None:
    await put_slots(planner, [{"day": d, "time": "08:00"} for d in ("mon", "wed", "fri")])
    drafts = [await planner.post(f"p{i}") for i in range(4)]
    base = f"/api/v1/accounts/{planner.account_id}/queue"
    answers = await asyncio.gather(
        *(
            planner.client.post(base, json={"post_id": pid}, headers=planner.headers)
            for pid in drafts
        )
    )
    assert [a.status_code for a in answers] == [201] * 4
    times = await planner.times()
    assert len({times[pid][0] for pid in drafts}) == 4


async def test_a_post_moved_to_another_account_leaves_the_first_ones_queue(
    planner: Planner,
) -> None:
    """Its time stays, and it is no queued post of the other account (whose re-flows would
    move it)."""
    await put_slots(planner, [{"day": "mon", "time": "09:00"}, {"day": "thu", "time": "18:30"}])
    first, second = [await planner.post(f"p{i}") for i in range(2)]
    await add(planner, first)
    await add(planner, second)
    emulator = planner.app.state.services.sandbox_emulator
    other = await connect_creator(planner.client, planner.headers, emulator, "creator_two")
    kept = (await planner.times())[second][0]
    moved = await planner.client.patch(
        f"/posts/{second}", json={"social_account_id": other}, headers=planner.headers
    )
    assert moved.status_code == 200, moved.text
    view = (
        await planner.client.get(
            f"/api/v1/accounts/{planner.account_id}/queue", headers=planner.headers
        )
    ).json()
    assert [e["post"]["id"] for e in view["upcoming"] if e["post"]] == [first]
    async with planner.session() as session:
        assert set(await session.scalars(select(QueuedPost.post_id))) == {first}
    assert (await planner.times())[second][0] == kept
