"""Each guarded transition moves a post only from the states it names, and from any other
state (or another user's post) changes nothing at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.users import user_headers
from tests.scheduler.conftest import World
from tiktimer.errors import Conflict, NotFound
from tiktimer.kit.time import utc_now
from tiktimer.posts.queue.records import Stage
from tiktimer.posts.queue.user_actions import make_due_now, requeue
from tiktimer.posts.schemas import PostUpdate
from tiktimer.posts.service import PostService

# Every state a post can be in; `publishing` in each of its stages.
STATES: dict[str, dict[str, Any]] = {
    "draft": {"status": "draft"},
    "scheduled": {"status": "scheduled"},
    **{
        f"publishing:{stage}": {
            "status": "publishing",
            "publish_stage": stage,
            "claimed_by": "w",
            "lease_expires_at": utc_now() + timedelta(minutes=5),
            "platform_publish_id": None if stage in ("claimed", "initializing") else "p-1",
        }
        for stage in Stage
    },
    "published": {"status": "published", "platform_publish_id": "p-1"},
    "failed": {"status": "failed"},
    "cancelled": {"status": "cancelled"},
    "unconfirmed": {"status": "unconfirmed", "platform_publish_id": "p-1"},
}
UNSTARTED = "publishing:claimed"
PUBLISHING = {state for state in STATES if state.startswith("publishing:")}

Action = Callable[[AsyncSession, int, int], Awaitable[bool]]
"""One guarded transition on (session, post id, acting user): whether it moved the post."""


def _service(name: str) -> Action:
    async def call(session: AsyncSession, post_id: int, user_id: int) -> bool:
        service = PostService()
        try:
            if name == "update":
                data = PostUpdate(content="edited")
                await service.update(session, user_id, "UTC", post_id, data)
            else:
                await getattr(service, name)(session, user_id, post_id)
        except (Conflict, NotFound):
            return False
        return True

    return call


def _user_action(action: Callable[..., Awaitable[Any]]) -> Callable[[World], Action]:
    def bind(_world: World) -> Action:
        async def call(session: AsyncSession, post_id: int, user_id: int) -> bool:
            return bool(await action(session, post_id, user_id, utc_now()))

        return call

    return bind


ALLOWED: dict[str, tuple[Callable[[World], Action], set[str]]] = {
    "cancel": (lambda _: _service("cancel"), {"draft", "scheduled", "failed", UNSTARTED}),
    "update": (
        lambda _: _service("update"),
        {"draft", "scheduled", "failed", "cancelled", UNSTARTED},
    ),
    "delete": (lambda _: _service("delete"), set(STATES) - PUBLISHING | {UNSTARTED}),
    "publish_now": (_user_action(make_due_now), {"draft", "scheduled", "cancelled"}),
    "retry": (_user_action(requeue), {"failed", "unconfirmed"}),
}
_KEPT = ("status", "publish_stage", "claimed_by", "content", "scheduled_time", "updated_at")


async def _moved(world: World, action: Action, post_id: int, user_id: int) -> bool:
    """Whether the action moved the post; a refusal must leave the row exactly as it was."""
    before = await world.read(post_id)
    async with world.app.state.services.sessionmaker() as session, session.begin():
        moved = await action(session, post_id, user_id)
    if not moved:
        after = await world.read(post_id)
        assert {f: getattr(after, f) for f in _KEPT} == {f: getattr(before, f) for f in _KEPT}
    return moved


@pytest.mark.parametrize("name", list(ALLOWED))
async def test_a_transition_moves_only_from_the_states_it_names(world: World, name: str) -> None:
    bind, allowed = ALLOWED[name]
    action = bind(world)
    user_id = await world.user()
    later = utc_now() + timedelta(hours=1)

    results = {}
    for state, fields in STATES.items():
        post_id = await world.post(user_id, None, None, at=later, **fields)
        results[state] = await _moved(world, action, post_id, user_id)

    assert {state for state, won in results.items() if won} == allowed


@pytest.mark.parametrize("name", [name for name in ALLOWED if name != "take_back"])
async def test_another_users_post_is_never_moved(world: World, name: str) -> None:
    bind, allowed = ALLOWED[name]
    owner, stranger = await world.user(), await world.user()
    later = utc_now() + timedelta(hours=1)
    for state in allowed:
        post_id = await world.post(owner, None, None, at=later, **STATES[state])
        assert not await _moved(world, bind(world), post_id, stranger)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/posts/{id}/cancel", None),
        ("PATCH", "/posts/{id}", {"content": "edited"}),
        ("DELETE", "/posts/{id}", None),
        ("POST", "/posts/{id}/retry", None),
    ],
)
async def test_a_refused_action_is_a_409_and_a_strangers_a_404(
    world: World, client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    headers = await user_headers(client, "alice")
    user_id = int((await client.get("/users/me", headers=headers)).json()["id"])
    post_id = await world.post(user_id, None, None, **STATES["publishing:initializing"])
    url = path.format(id=post_id)

    refused = await client.request(method, url, json=body, headers=headers)
    stranger = await client.request(
        method, url, json=body, headers=await user_headers(client, "bob")
    )

    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith("Post is ")
    assert stranger.status_code == 404, stranger.text
    assert stranger.json() == {"detail": "Post not found"}
    assert (await world.read(post_id)).publish_stage == Stage.initializing
