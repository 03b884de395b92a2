"""The notifications API's bodies: an endpoint's secret appears in `EndpointCreated` only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from tiktimer.kit.schemas import IdInPath, Schema, StrictInput
from tiktimer.notifications.events import SUBSCRIBABLE, EventType

EndpointIdPath = Annotated[int, IdInPath("Notification endpoint not found")]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class EndpointCreate(StrictInput):
    url: Annotated[str, Field(min_length=8, max_length=2048, examples=["https://example.com/hook"])]
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(SUBSCRIBABLE))] = list(
        EventType
    )
    description: Annotated[str | None, Field(max_length=200)] = None

    @field_validator("events")
    @classmethod
    def _each_once(cls, value: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(value))


class EndpointUpdate(StrictInput):
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(SUBSCRIBABLE))]

    @field_validator("events")
    @classmethod
    def _each_once(cls, value: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(value))


class EndpointRead(Schema):
    id: int
    url: str
    events: list[str]
    description: str | None
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(
        description="The signing secret, shown this once: keep it to verify deliveries."
    )


class EventRead(Schema):
    id: int
    type: str
    post_id: int | None
    account_id: int | None
    detail: str | None
    read_at: datetime | None
    created_at: datetime


class DeliveryRead(Schema):
    id: int
    event_id: int
    event_type: str
    post_id: int | None
    endpoint_id: int
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class TestQueued(Schema):
    event_id: int
    detail: str = "The test delivery is queued; the worker sends it within seconds."


class ReadMarked(Schema):
    marked: int
