from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import EmailStr, Field, field_validator

from tiktimer.kit.schemas import IdInPath, Schema, StrictInput

UserIdPath = Annotated[int, IdInPath("User not found")]
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,64}$"


def check_timezone(value: str) -> str:
    if value not in available_timezones() and value != "UTC":
        raise ValueError(f"unknown IANA time zone {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


class UserCreate(StrictInput):
    username: str = Field(pattern=USERNAME_PATTERN)
    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    timezone: str = "UTC"

    _tz = field_validator("timezone")(check_timezone)


class UserUpdate(StrictInput):
    email: EmailStr | None = None
    timezone: str | None = None
    password: str | None = Field(None, min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    current_password: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class AdminUserUpdate(StrictInput):
    is_active: bool | None = None
    is_superuser: bool | None = None


class UserRead(Schema):
    id: int
    username: str
    email: str
    is_active: bool
    is_superuser: bool
    timezone: str
    created_at: datetime
    updated_at: datetime
