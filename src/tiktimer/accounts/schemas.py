from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from tiktimer.kit.schemas import IdInPath, Schema, StrictInput

AccountIdPath = Annotated[int, IdInPath("Account not found")]
TokenHealth = Literal["ok", "expiring", "expired", "reauth_required", "disconnected"]


class AccountRead(Schema):
    id: int
    platform: str
    open_id: str
    display_name: str | None
    username: str | None
    avatar_url: str | None
    scopes: list[str]
    missing_scopes: list[str]
    can_direct_post: bool
    can_upload_drafts: bool
    status: str
    status_reason: str | None
    token_health: TokenHealth
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    is_sandbox: bool
    paused_at: datetime | None = Field(
        None, description="Set while the account is paused: its due posts wait"
    )
    created_at: datetime
    updated_at: datetime


class AuthorizeResponse(Schema):
    authorization_url: str
    sandbox: bool


class ExchangeRequest(StrictInput):
    code: str
    state: str


class ConnectResult(Schema):
    account: AccountRead
    sandbox: bool
