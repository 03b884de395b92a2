"""The post routes solve every dependency on the event loop: FastAPI runs a plain `def`
dependency in its thread pool, a thread hop per request that cost `POST /posts/` a fifth
of its CPU under load (docs/performance.md, API)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tiktimer.kit.state import provided
from tiktimer.posts.routes.crud import router as crud_router
from tiktimer.posts.service import PostService


def _runs_on_the_loop(call: Any) -> bool:
    method = inspect.getattr_static(type(call), "__call__", None)  # a security scheme
    return any(
        inspect.iscoroutinefunction(c) or inspect.isasyncgenfunction(c) for c in (call, method)
    )


def _calls(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield getattr(sub.call, "__qualname__", repr(sub.call)), sub.call
        yield from _calls(sub)


def _threaded(routes: list[Any]) -> dict[str, list[str]]:
    found = {}
    for route in routes:
        if isinstance(route, APIRoute):
            names = [name for name, call in _calls(route.dependant) if not _runs_on_the_loop(call)]
            if names:
                found[f"{sorted(route.methods)} {route.path}"] = names
    return found


def test_a_provided_part_is_a_coroutine_dependency() -> None:
    assert inspect.iscoroutinefunction(provided(PostService))


def test_no_post_route_solves_a_dependency_in_the_thread_pool() -> None:
    assert _threaded(crud_router.routes) == {}


def test_the_check_sees_a_plain_def_dependency() -> None:
    def plain() -> None: ...

    async def coroutine() -> None: ...

    assert not _runs_on_the_loop(plain)
    assert _runs_on_the_loop(coroutine)
