"""Pydantic bases and bounded input types: nothing a client sends can overflow a column.

Request bodies refuse unknown fields (no mass assignment) and text no database can store
(`tiktimer.kit.text`). Numbers and times are range-checked here, before any query, the same
way on SQLite and PostgreSQL: every id and integer column is a PostgreSQL INTEGER, and
times must stay inside years 1-9999 even after a day is added or taken away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from tiktimer.kit.text import UNSTORABLE_MESSAGE, UNSTORABLE_TYPE, unstorable, unstorable_paths
from tiktimer.kit.time import ensure_utc

DB_INT_MAX = 2**31 - 1
"""The largest PostgreSQL INTEGER: ids and stored numbers beyond it cannot exist."""

DbId = Annotated[int, Ge(1), Le(DB_INT_MAX)]
"""An id in a body or query: out of range is a 422 naming the field."""

DbCount = Annotated[int, Ge(0), Le(DB_INT_MAX)]
"""A non-negative stored number (offset, index, milliseconds)."""

ID_NOT_FOUND = "id_not_found"
_OUT_OF_RANGE = frozenset({"greater_than_equal", "less_than_equal", "int_parsing_size"})


@dataclass(frozen=True, slots=True)
class IdInPath:
    """An id in a URL path: one out of the column's range cannot exist, so it is a 404.

    Use as `Annotated[int, IdInPath("Post not found")]`. The error it raises carries type
    `id_not_found`; `tiktimer.exception_handlers` answers it as 404 with this detail, the
    same answer as an id in range that nobody has.
    """

    detail: str = "Not found"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_wrap_validator_function(
            self._validate, core_schema.int_schema(ge=1, le=DB_INT_MAX)
        )

    def _validate(self, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if {error["type"] for error in exc.errors()} <= _OUT_OF_RANGE:
                raise PydanticCustomError(ID_NOT_FOUND, self.detail) from None
            raise


EARLIEST = datetime(1, 1, 3, tzinfo=UTC)
LATEST = datetime(9999, 12, 29, 23, 59, 59, 999999, tzinfo=UTC)


def _storable_time(value: datetime) -> datetime:
    """Inside [EARLIEST, LATEST] in UTC (as written, without an offset): a day either side
    keeps any time zone and the 24-hour post windows inside what both databases store."""
    try:
        instant = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant <= LATEST:
        raise PydanticCustomError(
            "datetime_range", "Input should be a time between 0001-01-03 and 9999-12-29 (UTC)"
        )
    return value


StorableTime = Annotated[datetime, AfterValidator(_storable_time)]
"""A time a client sends to be stored; without an offset it stays naive for the caller."""

UtcTime = Annotated[datetime, AfterValidator(_storable_time), AfterValidator(ensure_utc)]
"""A time compared with stored ones (filters): aware UTC, without an offset read as UTC."""


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


MAX_UNKNOWN_FIELDS_LISTED = 20


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        """Many unknown keys make one error, not one each: listing the 65k keys a 1 MiB
        body can hold took the event loop most of a second."""
        if not isinstance(data, dict) or len(data) <= len(cls.model_fields) + 20:
            return data
        unknown = [key for key in data if key not in cls.model_fields]
        if len(unknown) <= MAX_UNKNOWN_FIELDS_LISTED:
            return data
        first = ", ".join(str(key)[:32] for key in unknown[:3])
        raise PydanticCustomError(
            "extra_forbidden",
            "Extra inputs are not permitted: {count} unknown fields ({first}, …)",
            {"count": len(unknown), "first": first},
        )

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """Every string in every field (lists and dicts too) must be storable text."""
        if isinstance(value, str):
            bad = unstorable(value)
        elif isinstance(value, list | tuple | dict | set | frozenset):
            bad = next(unstorable_paths(value), None) is not None
        else:
            return value
        if bad:
            raise PydanticCustomError(UNSTORABLE_TYPE, UNSTORABLE_MESSAGE)
        return value
