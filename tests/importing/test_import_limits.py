"""What an import file may be: UTF-8 with or without a BOM, a known header, bounded size.
The file as a whole refused is a 4xx with a JSON body, and nothing is created."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.importing.conftest import MAX_KB, MAX_ROWS
from tests.importing.helpers import csv_bytes, later, library_video, post_count, send, statuses


async def test_a_bom_and_spreadsheet_headers_are_read(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    media = await library_video(app, alice_id, "clip.mp4")
    rows = [
        {
            "Caption": "ünïcödé ✓",
            "Scheduled Time": later(),
            "Account": "Creator_One",
            "Media ID": media,
            "Privacy Level": "self_only",
            "Allow Comment": "no",
        }
    ]
    response = await send(client, alice, csv_bytes(rows, bom=True))
    assert response.status_code == 200, response.text
    assert statuses(response.json()) == {2: "created"}
    [post] = (await client.get("/posts/", headers=alice)).json()
    assert (post["content"], post["allow_comment"]) == ("ünïcödé ✓", False)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"", 422, "empty"),
        (b"caption,time\n", 422, "no rows"),
        (b"caption,when,colour\nx,y,z\n", 422, "unknown column 'colour'"),
        (b"caption\nx\n", 422, "'time' column is required"),
        ("caption,time\ncafé,x\n".encode("latin-1"), 422, "not UTF-8"),
        (b"caption,time\nx\x00,y\n", 422, "NUL"),
        (b'caption,time\n"unclosed,y\n', 422, "not valid CSV"),
    ],
)
async def test_unreadable_files_are_refused_whole(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    body: bytes,
    status: int,
    words: str,
) -> None:
    response = await send(client, alice, body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert words in answer["detail"]
    assert all({"row", "column", "message"} <= set(p) for p in answer["problems"])
    assert await post_count(app) == 0


async def test_size_limits_and_content_type(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    too_many = csv_bytes([{"caption": str(n), "time": later()} for n in range(MAX_ROWS + 1)])
    response = await send(client, alice, too_many, dry_run=True)
    assert response.status_code == 413, response.text
    assert f"more than {MAX_ROWS} rows" in response.json()["detail"]
    too_big = b"caption,time\n" + b"x" * (MAX_KB * 1024) + b",y\n"
    response = await send(client, alice, too_big)
    assert response.status_code == 413, response.text
    response = await send(client, alice, b"caption,time\n", content_type="application/json")
    assert response.status_code == 415, response.text
    assert "text/csv" in response.json()["detail"]
    response = await send(client, alice, b"caption,time\nx,y\n", mode="some")
    assert response.status_code == 422
    anonymous = await client.post(
        "/api/v1/posts/import", content=b"caption,time\n", headers={"Content-Type": "text/csv"}
    )
    assert anonymous.status_code == 401
    assert await post_count(app) == 0


async def test_formulas_are_stored_as_text_and_never_evaluated(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> None:
    """CSV injection: a caption like =HYPERLINK(…) is a caption; the report is JSON."""
    media = await library_video(app, alice_id, "clip.mp4")
    caption = '=HYPERLINK("http://evil.example","x")'
    rows = [
        {
            "caption": caption,
            "time": later(),
            "account": str(account),
            "media": media,
            "privacy": "SELF_ONLY",
        }
    ]
    response = await send(client, alice, csv_bytes(rows))
    assert response.headers["content-type"].startswith("application/json")
    [post] = (await client.get("/posts/", headers=alice)).json()
    assert post["content"] == caption
