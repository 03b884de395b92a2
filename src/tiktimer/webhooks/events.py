"""TikTok's webhook envelope (reference §9), parsed without trusting its shape.

    {"client_key": "…", "event": "post.publish.complete", "create_time": 1615338610,
     "user_openid": "…", "content": "{\\"publish_id\\": \\"…\\", \\"publish_type\\": \\"…\\"}"}

`content` is a JSON *string*; an object is accepted too. Post ids may come as numbers or
strings and are kept as exact decimal strings (they exceed 2**53).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tiktimer.kit.text import unstorable_paths

MAX_EVENT_LENGTH = 64  # webhook_events.event


class MalformedDelivery(ValueError):
    """The body is not a webhook envelope."""


@dataclass(frozen=True, slots=True)
class Delivery:
    event: str
    client_key: str | None
    user_openid: str | None
    create_time: int | None
    content: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str = ""

    @property
    def publish_id(self) -> str | None:
        value = self.content.get("publish_id")
        return value if isinstance(value, str) and value else None

    @property
    def post_id(self) -> str | None:
        return exact_id(self.content.get("post_id"))

    @property
    def reason(self) -> Any:
        return self.content.get("reason")

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "client_key": self.client_key,
            "user_openid": self.user_openid,
            "create_time": self.create_time,
            "content": self.content,
        }


def parse(body: bytes) -> Delivery:
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedDelivery("the body is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise MalformedDelivery("the body has no event")
    too_long = len(envelope["event"]) > MAX_EVENT_LENGTH
    if too_long or next(unstorable_paths(envelope), None) is not None:
        raise MalformedDelivery("the body holds text that cannot be stored")
    return Delivery(
        event=envelope["event"],
        client_key=_text(envelope.get("client_key")),
        user_openid=_text(envelope.get("user_openid")),
        create_time=envelope.get("create_time") if _is_int(envelope.get("create_time")) else None,
        content=_content(envelope.get("content")),
        # TikTok resends the same bytes on every retry: the body identifies the delivery.
        dedupe_key=hashlib.sha256(body).hexdigest(),
    )


def exact_id(value: Any) -> str | None:
    """A TikTok int64 id as a decimal string, or None (floats have lost digits already)."""
    if _is_int(value):
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,20}", value):
        return value
    return None


def _content(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise MalformedDelivery("content is not JSON") from None
        if next(unstorable_paths(value), None) is not None:
            raise MalformedDelivery("content holds text that cannot be stored")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedDelivery("content is not an object")
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
