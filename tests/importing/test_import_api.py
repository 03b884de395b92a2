"""POST /api/v1/posts/import: dry run, all-or-nothing and per-row imports, re-imports."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.importing.helpers import (
    csv_bytes,
    later,
    library_video,
    post_count,
    problems_by_row,
    send,
    statuses,
)


def mixed_rows(account: int, media: str) -> list[dict[str, str]]:
    """Rows 2 and 4 are good; 3 has a bad time and privacy, 5 an unknown account and media."""
    good = {"privacy": "SELF_ONLY", "account": str(account), "media": media}
    return [
        {"caption": "first", "time": later(2), **good},
        {"caption": "bad", "time": "next tuesday", **good, "privacy": "EVERYONE"},
        {"caption": "second", "time": later(3), **good, "account": "@creator_one"},
        {"caption": "bad too", "time": later(4), **good, "account": "nobody", "media": "x.mp4"},
    ]


async def test_dry_run_reports_every_problem_by_row_and_column(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    await library_video(app, alice_id, "clip.mp4")
    response = await send(client, alice, csv_bytes(mixed_rows(account, "clip.mp4")), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert statuses(report) == {2: "valid", 3: "invalid", 4: "valid", 5: "invalid"}
    assert problems_by_row(report) == {3: {"time", "privacy"}, 5: {"account", "media"}}
    assert (report["created"], report["invalid"]) == (0, 2)
    assert await post_count(app) == 0


async def test_mode_all_creates_nothing_when_a_row_is_bad_then_everything(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = mixed_rows(account, media)
    refused = await send(client, alice, csv_bytes(rows))
    assert refused.status_code == 422, refused.text
    report = refused.json()
    assert statuses(report) == {2: "not imported", 3: "invalid", 4: "not imported", 5: "invalid"}
    assert problems_by_row(report) == {3: {"time", "privacy"}, 5: {"account", "media"}}
    assert await post_count(app) == 0
    good = [rows[0], rows[2]]
    done = await send(client, alice, csv_bytes(good))
    assert done.status_code == 200, done.text
    assert statuses(done.json()) == {2: "created", 3: "created"}
    assert await post_count(app) == 2
    posts = (await client.get("/posts/", headers=alice)).json()
    assert {p["content"] for p in posts} == {"first", "second"}
    assert {p["social_account_id"] for p in posts} == {account}
    assert all(p["media_ids"] == [media] and p["status"] == "scheduled" for p in posts)


async def test_mode_rows_keeps_the_good_rows_and_a_reimport_creates_nothing(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = mixed_rows(account, media)
    body = csv_bytes(rows)
    first = await send(client, alice, body, mode="rows")
    assert first.status_code == 200, first.text
    assert statuses(first.json()) == {2: "created", 3: "invalid", 4: "created", 5: "invalid"}
    assert first.json()["created"] == 2
    again = await send(client, alice, body, mode="rows")
    assert statuses(again.json()) == {
        2: "already imported",
        3: "invalid",
        4: "already imported",
        5: "invalid",
    }
    # The same rows in another file, columns reordered and spelt otherwise: still known.
    moved = [
        {"Scheduled Time": rows[0]["time"], **{k: v for k, v in rows[0].items() if k != "time"}}
    ]
    third = await send(client, alice, csv_bytes(moved), mode="all")
    assert third.status_code == 200, third.text
    assert statuses(third.json()) == {2: "already imported"}
    assert await post_count(app) == 2


async def test_a_row_repeated_in_one_file_is_imported_once(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    row = mixed_rows(account, media)[0]
    response = await send(client, alice, csv_bytes([row, row]))
    assert statuses(response.json()) == {2: "created", 3: "already imported"}
    assert await post_count(app) == 1


async def test_the_create_paths_own_checks_apply_to_imported_rows(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    """A time in the past and TikTok's pre-flight are the create path's, reported by column."""
    media = await library_video(app, alice_id, "clip.mp4")
    good = {"account": str(account), "media": media, "privacy": "SELF_ONLY"}
    rows = [
        {"caption": "past", "time": "2020-01-01T10:00:00+00:00", **good},
        {"caption": "public", "time": later(2), **good, "privacy": "PUBLIC_TO_EVERYONE"},
    ]
    report = (await send(client, alice, csv_bytes(rows), dry_run=True)).json()
    assert statuses(report) == {2: "invalid", 3: "invalid"}
    assert problems_by_row(report) == {2: {"time"}, 3: {"privacy"}}


async def test_two_concurrent_imports_of_one_file_create_each_post_once(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = mixed_rows(account, media)
    body = csv_bytes([rows[0], rows[2]])
    first, second = await asyncio.gather(
        send(client, alice, body, mode="rows"), send(client, alice, body, mode="rows")
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    outcomes = sorted([*statuses(first.json()).values(), *statuses(second.json()).values()])
    assert outcomes == ["already imported", "already imported", "created", "created"]
    assert await post_count(app) == 2


async def test_an_idempotency_key_replays_the_first_report(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = mixed_rows(account, media)
    body = csv_bytes(rows)
    first = await send(client, alice, body, mode="rows", key="plan-december")
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await send(client, alice, body, mode="rows", key="plan-december")
    assert (again.status_code, again.json()) == (200, first.json())  # not "already imported"
    assert again.headers["Idempotent-Replayed"] == "true"
    for other in (
        send(client, alice, csv_bytes(rows[:1]), mode="rows", key="plan-december"),
        send(client, alice, body, mode="all", key="plan-december"),
    ):
        refused = await other
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await post_count(app) == 2


async def test_concurrent_imports_with_one_key_answer_alike_and_create_once(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = mixed_rows(account, media)
    body = csv_bytes([rows[0], rows[2]])
    answers = await asyncio.gather(
        *(send(client, alice, body, mode="rows", key="same") for _ in range(2))
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()  # the later one replays the first's report
    assert sorted("Idempotent-Replayed" in a.headers for a in answers) == [False, True]
    assert await post_count(app) == 2


async def test_a_refused_import_does_not_keep_its_key(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = mixed_rows(account, media)
    refused = await send(client, alice, csv_bytes(rows), mode="all", key="retry-me")
    assert refused.status_code == 422
    fixed = await send(client, alice, csv_bytes([rows[0], rows[2]]), mode="all", key="retry-me")
    assert fixed.status_code == 200, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers
    assert fixed.json()["created"] == 2
