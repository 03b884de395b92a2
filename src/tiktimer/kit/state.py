"""Dependencies that hand endpoints what the lifespan built onto `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request


def from_state(name: str) -> Callable[[Request], Any]:
    """A dependency returning `app.state.<name>`; wrap it in a typed `Annotated` alias."""

    def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    dependency.__name__ = f"state_{name}"
    return dependency
