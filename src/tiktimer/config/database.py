"""The database: its URL (the embedded SQLite file by default), retries and pool."""

from __future__ import annotations

from pydantic import Field, field_validator

from tiktimer.config._base import DataDirSettings, env


class DatabaseSettings(DataDirSettings):
    url_raw: str | None = Field(None, validation_alias=env("DATABASE_URL"))
    connect_retries: int = Field(
        5, ge=0, le=100, validation_alias=env("TIKTIMER_DB_CONNECT_RETRIES")
    )
    pool_size: int = Field(10, ge=1, le=200, validation_alias=env("TIKTIMER_DB_POOL_SIZE"))

    @field_validator("url_raw")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith(("postgres://", "postgresql://")):
            # Accept the common spelling and use the async driver.
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def url(self) -> str:
        if self.url_raw:
            return self.url_raw
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tiktimer.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")
