"""Where state and media bytes live: the data directory, local disk or S3, uploads in progress."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from tiktimer.config._base import DataDirSettings, env


class StorageSettings(DataDirSettings):
    backend: Literal["local", "s3"] = Field("local", validation_alias=env("TIKTIMER_STORAGE"))
    s3_bucket: str | None = Field(None, validation_alias=env("TIKTIMER_S3_BUCKET"))
    s3_prefix: str = Field("", validation_alias=env("TIKTIMER_S3_PREFIX"))
    s3_endpoint_url: str | None = Field(None, validation_alias=env("TIKTIMER_S3_ENDPOINT_URL"))
    s3_region: str | None = Field(None, validation_alias=env("TIKTIMER_S3_REGION", "AWS_REGION"))
    upload_dir_raw: Path | None = Field(None, validation_alias=env("TIKTIMER_UPLOAD_DIR"))

    @property
    def media_dir(self) -> Path:
        """Root of the `local` storage backend."""
        return self.data_dir / "media"

    @property
    def upload_dir(self) -> Path:
        """Uploads in progress; on the same filesystem as `media_dir`, a finished one is renamed."""
        return self.upload_dir_raw or self.data_dir / "uploads"
