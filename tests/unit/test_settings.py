"""Settings: original names, generated secrets, refusal of sample values, readable errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tiktimer.config import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "DATABASE_URL", "TIKTOK_CLIENT_KEY", "TIKTIMER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    assert settings.auth.algorithm == "HS256"
    assert settings.auth.access_token_expire_minutes == 30
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/tiktimer.db"
    assert settings.tiktok.sandbox_enabled is True


def test_original_variable_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "15")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/tiktimer")
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", "ck")
    monkeypatch.setenv("TIKTIMER_DATA_DIR", str(tmp_path))
    settings = load_settings(_env_file=None)
    assert settings.auth.jwt_key == "x" * 40
    assert settings.auth.access_token_expire_minutes == 15
    assert settings.database.url == "postgresql+asyncpg://u:p@db:5432/tiktimer"
    assert settings.storage.data_dir == tmp_path
    assert settings.tiktok.sandbox_enabled is False


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("ACCESS_TOKEN_EXPIRE_MINUTES=45\nTIKTIMER_MAX_UPLOAD_MB=100\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.auth.access_token_expire_minutes == 45
    assert settings.media.max_upload_mb == 100


def test_secret_key_is_generated_once_with_0600(tmp_path: Path) -> None:
    first = load_settings(_env_file=None, data_dir=tmp_path).auth.jwt_key
    second = load_settings(_env_file=None, data_dir=tmp_path).auth.jwt_key
    assert first == second
    assert len(first) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("value", ["your-secret-key-needs-to-be-updated", "changeme", "short"])
def test_sample_or_weak_secret_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="^Invalid setting SECRET_KEY: "):
        load_settings(_env_file=None, secret_key=value)


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "soon")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith("Invalid setting ACCESS_TOKEN_EXPIRE_MINUTES:")
    assert "\n" not in message
    monkeypatch.delenv("ACCESS_TOKEN_EXPIRE_MINUTES")
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings(_env_file=None)
