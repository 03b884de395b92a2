"""Scheduling controls (issue 13): the publishing tests' app and creator, plus a ready
video and a helper that makes a publishable post."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.publishing import conftest as publishing
from tests.publishing.helpers import future, stored_media

# The publishing tests' fixtures: an app with https media URLs, alice and her creator.
app = publishing.app
_fresh_creator_info = publishing._fresh_creator_info
emulator = publishing.emulator
alice = publishing.alice
alice_id = publishing.alice_id
account = publishing.account
samples = publishing.samples

VIDEO_BYTES = 200_000


@pytest.fixture
async def video(app: FastAPI, alice_id: int) -> str:
    """A ready video of alice's that pre-flight accepts."""
    media_id, _ = await stored_media(app, alice_id, VIDEO_BYTES)
    return media_id


def body(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"content": "hello", "scheduled_time": future()}
    values.update(fields)
    return values


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], expect: int = 201, **fields: Any
) -> dict[str, Any]:
    response = await client.post("/posts/", json=body(**fields), headers=headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def refused_fields(response: httpx.Response) -> dict[str, str]:
    """A 422's refused body fields and their types."""
    assert response.status_code == 422, response.text
    return {item["loc"][-1]: item["type"] for item in response.json()["detail"]}
