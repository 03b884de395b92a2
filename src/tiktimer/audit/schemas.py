"""What `GET /admin/audit` answers, and its bounded filter types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator

from tiktimer.kit.schemas import Schema

# Both databases store years 1..9999; a bound that converts outside them is refused (422).
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _in_storable_range(value: datetime) -> datetime:
    try:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date is outside the range 0001..9999") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError("date is outside the range 0001..9999")
    return utc


# An instant; without an offset it is read as UTC.
Instant = Annotated[datetime, AfterValidator(_in_storable_range)]


class AuditEventRead(Schema):
    id: int
    at: datetime
    event: str
    outcome: str
    actor_user_id: int | None
    subject: str | None
    address: str | None
    detail: dict[str, Any]
