"""What tests read back about the calls made: one record per request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestRecord:
    """One call; no token, code or secret is kept (the query string is dropped)."""

    method: str
    path: str
    endpoint: str | None
    status: int | None  # None when the connection was dropped or hung
    at: float
    fault: str | None = None
