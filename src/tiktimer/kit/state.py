"""Typed dependencies on what the lifespan built (`app.state.services`, the app's one key).

`provided(PostService)` hands an endpoint the process's one `PostService`, looked up by its
type, not by a name; declare it once as an alias next to the service
(`PostServiceDep = Annotated[PostService, Depends(provided(PostService))]`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from fastapi import Request

T = TypeVar("T")


class Provider(Protocol):
    """What the app keeps on `app.state.services` (`tiktimer.services.Services`)."""

    def provide(self, kind: type[T]) -> T: ...


def services(request: Request) -> Provider:
    """The services of the app serving `request`."""
    provider: Provider = request.app.state.services
    return provider


def provided(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency returning the part of type `kind`; wrap it in a typed `Annotated` alias.

    A coroutine function although it never awaits: FastAPI runs a plain `def` dependency in
    its thread pool, a thread hop per request (most of a millisecond under load) for a
    dictionary lookup.
    """

    async def dependency(request: Request) -> T:
        return services(request).provide(kind)

    dependency.__name__ = f"provided_{kind.__name__}"
    return dependency
