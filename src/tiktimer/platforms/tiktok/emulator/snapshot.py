"""The persistent part of the emulator's state as one JSON-ready snapshot.

Persisted: creators, OAuth codes/grants/tokens (keyed by hashes), publish tasks and their
upload progress, rate-limit windows, the webhook outbox and the clock offset. Kept in each
process's memory only: registered clients (built from configuration), the request log,
faults and scripted failures (test hooks), and running hashes of uploads in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from .models import Creator, OAuthRecords, PublishRecords
from .webhooks import Outbox

SNAPSHOT_FORMAT = 1


@dataclass
class Snapshot:
    format: int
    clock_offset: float
    creators: dict[str, Creator]
    oauth: OAuthRecords
    publishing: PublishRecords
    rate_windows: dict[str, dict[str, list[float]]]
    outbox: Outbox


_ADAPTER = TypeAdapter(Snapshot)


def dump(snapshot: Snapshot) -> dict[str, Any]:
    data: dict[str, Any] = _ADAPTER.dump_python(snapshot, mode="json")
    return data


def load(data: dict[str, Any]) -> Snapshot:
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"sandbox state format {data.get('format')!r} is not {SNAPSHOT_FORMAT}")
    return _ADAPTER.validate_python(data)
