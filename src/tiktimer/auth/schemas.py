from __future__ import annotations

from typing import Literal

from tiktimer.kit.schemas import Schema, StrictInput


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RefreshRequest(StrictInput):
    refresh_token: str
