"""What every settings group shares: how variables are read, the data directory, helpers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Environment and `.env`, names in any case; unknown variables are left to config_check.
GROUP_CONFIG = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    case_sensitive=False,
    validate_by_name=True,
    validate_by_alias=True,
)


def env(name: str, *more: str) -> AliasChoices:
    """The variable(s) a field is read from; the first is the one error messages name."""
    return AliasChoices(name, *more)


class GroupSettings(BaseSettings):
    """One concern's settings, read by its own from the environment and `.env`."""

    model_config = GROUP_CONFIG


class DataDirSettings(GroupSettings):
    """A group that keeps files in the data directory (`TIKTIMER_DATA_DIR`).

    Every such group reads the same variable, and `Settings` hands a `data_dir` argument
    to all of them, so they always agree; `settings.storage.data_dir` is the one to read.
    """

    data_dir: Path = Field(Path("./data"), validation_alias=env("TIKTIMER_DATA_DIR"))


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def generated_secret(path: Path, make: Callable[[], str]) -> str:
    """Read a secret kept in the data dir, creating it (mode 0600) the first time.

    Several processes may start at once (`serve --workers N`): each writes a candidate to
    its own temporary file and hard-links it into place, which succeeds for exactly one,
    so every process reads the same complete key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = make()
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process won; use its key
        finally:
            candidate.unlink()
    return path.read_text().strip()
