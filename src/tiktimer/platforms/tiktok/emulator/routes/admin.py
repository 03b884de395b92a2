"""`/_emulator/…`: the test hooks of `Emulator` over HTTP, for tests in other processes.

All bodies and answers are JSON. Requests here are neither logged nor subject to faults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.requests import Request

from ..config import ClientConfig, CreatorSettings
from ..emulator import Emulator
from ..endpoints import ADMIN_PREFIX
from ..enums import PrivacyLevel
from ..errors import NotFoundError
from ..faults import Fault, FaultKind, FaultPhase
from .common import emulator_of


def _check_admin_token(request: Request) -> None:
    expected = emulator_of(request).config.admin_token
    if expected and request.headers.get("x-emulator-admin-token") != expected:
        raise HTTPException(status_code=401, detail="X-Emulator-Admin-Token is missing or wrong")


router = APIRouter(prefix=ADMIN_PREFIX, dependencies=[Depends(_check_admin_token)])

_creator_settings = TypeAdapter(CreatorSettings)
_client_config = TypeAdapter(ClientConfig)
T = TypeVar("T")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultIn(_Strict):
    endpoint: str
    kind: FaultKind
    nth: int = Field(1, ge=1)
    times: int | None = Field(1, ge=1)
    seconds: float = Field(0.0, ge=0)
    status: int | None = Field(None, ge=100, le=599)
    error_code: str | None = None
    message: str = ""
    phase: FaultPhase = FaultPhase.BEFORE


class PublishFailureIn(_Strict):
    fail_reason: str
    count: int = Field(1, ge=1)


class TokensIn(_Strict):
    client_key: str
    username: str
    scopes: list[str] | None = None


class UserIn(_Strict):
    client_key: str
    username: str


class UserPostIn(_Strict):
    privacy_level: PrivacyLevel = PrivacyLevel.PUBLIC_TO_EVERYONE


class AdvanceIn(_Strict):
    seconds: float = Field(ge=0)


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    """Forget all state except registered clients; creators return to the config's."""
    emulator_of(request).reset()
    return {"ok": True}


@router.post("/clock/advance")
async def advance_clock(body: AdvanceIn, request: Request) -> dict[str, float]:
    """Let lifetimes, windows and processing delays elapse without waiting."""
    emulator = emulator_of(request)
    emulator.advance_clock(body.seconds)
    return {"now": emulator.clock.now()}


@router.get("/clients")
async def list_clients(request: Request) -> list[dict[str, Any]]:
    """Registered apps (secrets omitted)."""
    return [_client_json(client) for client in emulator_of(request).clients()]


@router.post("/clients", status_code=201)
async def register_client(body: dict[str, Any], request: Request) -> dict[str, Any]:
    """Register or replace an app, with the fields of `ClientConfig`."""
    client = _validated(_client_config, body)
    emulator_of(request).register_client(client)
    return _client_json(client)


@router.get("/creators")
async def list_creators(request: Request) -> list[dict[str, Any]]:
    """Sandbox creators with their settings."""
    emulator = emulator_of(request)
    return [_creator_json(emulator, settings) for settings in emulator.creators()]


@router.post("/creators", status_code=201)
async def create_creator(body: dict[str, Any], request: Request) -> dict[str, Any]:
    """Create a creator (or replace one), with the fields of `CreatorSettings`."""
    emulator = emulator_of(request)
    settings = emulator.create_creator(_validated(_creator_settings, body))
    return _creator_json(emulator, settings)


@router.get("/creators/{username}")
async def get_creator(username: str, request: Request) -> dict[str, Any]:
    """One creator, with open_ids per client and posts counted toward today's cap."""
    emulator = emulator_of(request)
    return _creator_json(emulator, _found(lambda: emulator.creator(username)))


@router.patch("/creators/{username}")
async def update_creator(username: str, body: dict[str, Any], request: Request) -> dict[str, Any]:
    """Change some settings (e.g. is_private, posts_today, banned)."""
    emulator = emulator_of(request)
    current = _found(lambda: emulator.creator(username))
    merged = _validated(_creator_settings, dataclasses.asdict(current) | body)
    if merged.username != username:
        raise HTTPException(status_code=422, detail="a creator's username cannot change")
    changes = {name: getattr(merged, name) for name in body}
    return _creator_json(emulator, emulator.update_creator(username, **changes))


@router.post("/tokens")
async def issue_tokens(body: TokensIn, request: Request) -> dict[str, Any]:
    """Skip the consent page: the token response for this creator and client."""
    emulator = emulator_of(request)
    scopes = tuple(body.scopes) if body.scopes is not None else None
    return _found(lambda: emulator.issue_tokens(body.client_key, body.username, scopes))


@router.post("/authorizations/remove")
async def remove_authorization(body: UserIn, request: Request) -> dict[str, int]:
    """The user disconnects the app: tokens die, in-flight posts fail with auth_removed."""
    revoked = emulator_of(request).remove_authorization(body.client_key, body.username)
    return {"revoked_grants": revoked}


@router.get("/publications")
async def list_publications(
    request: Request,
    caption: str | None = None,
    creator: str | None = None,
    client_key: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Publish tasks, oldest first, filtered by caption, creator, client or status."""
    records = emulator_of(request).publications(
        caption=caption, creator=creator, client_key=client_key, status=status
    )
    return [record.to_json() for record in records]


@router.get("/publications/count")
async def count_publications(
    request: Request,
    caption: str | None = None,
    creator: str | None = None,
    client_key: str | None = None,
    status: str | None = None,
) -> dict[str, int]:
    """How many publish tasks match the filters."""
    count = emulator_of(request).count_publications(
        caption=caption, creator=creator, client_key=client_key, status=status
    )
    return {"count": count}


@router.get("/publications/{publish_id}")
async def get_publication(publish_id: str, request: Request) -> dict[str, Any]:
    """One publish task."""
    emulator = emulator_of(request)
    return _found(lambda: emulator.publication(publish_id)).to_json()


@router.post("/publications/{publish_id}/user-post")
async def simulate_user_post(publish_id: str, body: UserPostIn, request: Request) -> dict[str, Any]:
    """The creator posts an inbox draft (SEND_TO_USER_INBOX → PUBLISH_COMPLETE)."""
    emulator = emulator_of(request)
    try:
        record = _found(lambda: emulator.simulate_user_post(publish_id, body.privacy_level))
    except ValueError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return record.to_json()


@router.get("/requests")
async def list_requests(
    request: Request, endpoint: str | None = None, status: int | None = None
) -> list[dict[str, Any]]:
    """Logged calls to TikTok endpoints (token hashes only), oldest first."""
    records = emulator_of(request).requests(endpoint=endpoint, status=status)
    return [record.to_json() for record in records]


@router.get("/requests/count")
async def count_requests(
    request: Request, endpoint: str | None = None, status: int | None = None
) -> dict[str, int]:
    """How many logged calls match."""
    return {"count": emulator_of(request).count_requests(endpoint=endpoint, status=status)}


@router.get("/faults")
async def list_faults(request: Request) -> list[dict[str, Any]]:
    """Faults in force, with how many calls each has seen and hit."""
    return [_fault_json(fault) for fault in emulator_of(request).faults()]


@router.post("/faults", status_code=201)
async def add_fault(body: FaultIn, request: Request) -> dict[str, Any]:
    """Script latency, a 5xx, a hang, a dropped connection or a TikTok error code."""
    try:
        fault = Fault(**body.model_dump())
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return _fault_json(emulator_of(request).add_fault(fault))


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, bool]:
    """Remove every fault and every scripted publish failure."""
    emulator_of(request).clear_faults()
    return {"ok": True}


@router.post("/publish-failures")
async def fail_next_publish(body: PublishFailureIn, request: Request) -> dict[str, bool]:
    """The next `count` publish tasks end FAILED with `fail_reason`."""
    emulator_of(request).fail_next_publish(body.fail_reason, body.count)
    return {"ok": True}


def _validated(adapter: TypeAdapter[T], body: dict[str, Any]) -> T:
    try:
        return adapter.validate_python(body)
    except (ValidationError, ValueError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


def _found(lookup: Callable[[], T]) -> T:
    try:
        return lookup()
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


def _client_json(client: ClientConfig) -> dict[str, Any]:
    data = dataclasses.asdict(client)
    data.pop("client_secret")
    return data


def _creator_json(emulator: Emulator, settings: CreatorSettings) -> dict[str, Any]:
    data = dataclasses.asdict(settings)
    data["posts_counted_today"] = emulator.posts_today(settings.username)
    data["open_ids"] = {
        client.client_key: emulator.open_id(client.client_key, settings.username)
        for client in emulator.clients()
    }
    return data


def _fault_json(fault: Fault) -> dict[str, Any]:
    return dataclasses.asdict(fault)
