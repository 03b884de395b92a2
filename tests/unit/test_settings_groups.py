"""Settings in groups: every variable name of before the groups still sets its value, from
the environment, `.env` or a keyword; flat keywords reach their group; errors stay one line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from tiktimer.config import (
    Settings,
    SettingsError,
    StorageSettings,
    group_fields,
    load_settings,
    variable_names,
)
from tiktimer.config.flat import FLAT_NAMES
from tiktimer.config_check import known_names

README = Path(__file__).resolve().parents[2] / "README.md"

# The contract: every variable TikTimer reads, as it was before the settings were grouped.
VARIABLES = frozenset(
    {
        "SECRET_KEY", "ALGORITHM", "ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_DAYS",
        "DATABASE_URL", "TIKTIMER_DATA_DIR", "TIKTIMER_DB_CONNECT_RETRIES",
        "TIKTIMER_DB_POOL_SIZE", "TIKTIMER_HOST", "TIKTIMER_PORT", "TIKTIMER_PUBLIC_URL",
        "TIKTIMER_OTEL", "TIKTIMER_CORS_ORIGINS", "TIKTIMER_LOG_LEVEL",
        "TIKTIMER_PASSWORD_HASH_THREADS", "TIKTIMER_MAX_JSON_BODY_KB",
        "TIKTIMER_BODY_TIMEOUT_SECONDS", "TIKTIMER_MAX_HEADER_KB", "TIKTIMER_RATE_LIMITS",
        "TIKTIMER_IMPORT_MAX_ROWS", "TIKTIMER_IMPORT_MAX_KB",
        "TIKTIMER_RATE_LIMIT_LOGIN_IP", "TIKTIMER_RATE_LIMIT_LOGIN_USER",
        "TIKTIMER_RATE_LIMIT_LOGIN_ACCOUNT", "TIKTIMER_LOGIN_LOCKOUT_SECONDS",
        "TIKTIMER_RATE_LIMIT_REGISTER", "TIKTIMER_RATE_LIMIT_REFRESH", "TIKTOK_CLIENT_KEY",
        "TIKTOK_CLIENT_SECRET", "TIKTOK_REDIRECT_URI", "TIKTOK_AUTH_URL", "TIKTOK_API_BASE",
        "TIKTOK_SCOPES", "TIKTIMER_SANDBOX", "TIKTIMER_YOUTUBE_CLIENT_ID",
        "TIKTIMER_YOUTUBE_CLIENT_SECRET", "TIKTIMER_YOUTUBE_REDIRECT_URI",
        "TIKTIMER_YOUTUBE_SANDBOX",
        "TIKTIMER_TOKEN_KEYS", "TIKTIMER_MEDIA_PUBLIC_URL",
        "TIKTIMER_MEDIA_URL_TTL_SECONDS", "TIKTIMER_CREATOR_INFO_CACHE_SECONDS",
        "TIKTIMER_TIKTOK_DAILY_POST_CAP", "TIKTIMER_TIKTOK_PENDING_SHARE_CAP",
        "TIKTIMER_STATUS_POLL_GIVE_UP_MINUTES", "TIKTIMER_WEBHOOK_TOLERANCE_SECONDS",
        "TIKTIMER_SANDBOX_WEBHOOKS", "TIKTIMER_FETCH_ALLOW", "TIKTIMER_STORAGE",
        "TIKTIMER_S3_BUCKET", "TIKTIMER_S3_PREFIX", "TIKTIMER_S3_ENDPOINT_URL",
        "TIKTIMER_S3_REGION", "TIKTIMER_MAX_UPLOAD_MB", "TIKTIMER_UPLOAD_DIR",
        "TIKTIMER_UPLOAD_EXPIRE_HOURS", "TIKTIMER_MEDIA_MAX_DURATION_SEC",
        "TIKTIMER_MEDIA_UNUSED_TTL_HOURS", "TIKTIMER_MEDIA_KEEP_PUBLISHED_DAYS",
        "TIKTIMER_MEDIA_GC_INTERVAL_MINUTES", "TIKTIMER_RUN_SCHEDULER",
        "TIKTIMER_WORKER_CONCURRENCY", "TIKTIMER_SCHEDULER_POLL_SECONDS",
        "TIKTIMER_SCHEDULER_BATCH_SIZE", "TIKTIMER_SCHEDULER_LEASE_SECONDS",
        "TIKTIMER_SCHEDULER_HEARTBEAT_SECONDS", "TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS",
        "TIKTIMER_PUBLISH_MAX_ATTEMPTS", "TIKTIMER_PUBLISH_RETRY_BASE_SECONDS",
        "TIKTIMER_PUBLISH_RETRY_CAP_SECONDS", "TIKTIMER_STATUS_POLL_FIRST_SECONDS",
        "TIKTIMER_STATUS_POLL_MAX_SECONDS", "TIKTIMER_RATE_LIMIT_WINDOW_SECONDS",
        "TIKTIMER_RATE_LIMIT_INIT", "TIKTIMER_RATE_LIMIT_STATUS",
        "TIKTIMER_RATE_LIMIT_CREATOR_INFO", "TIKTIMER_REDIS_URL",
        # issue 13: the late-publish policy and the duplicate guard
        "TIKTIMER_LATE_PUBLISH_MINUTES", "TIKTIMER_DUPLICATE_WINDOW_HOURS",
        "TIKTIMER_SERIES_HORIZON_DAYS", "TIKTIMER_SERIES_INTERVAL_MINUTES",
        "TIKTIMER_FEED_PAST_DAYS", "TIKTIMER_FEED_AHEAD_DAYS",
        # issue 15: who reads /metrics, and the workers' metrics port
        "TIKTIMER_METRICS_TOKEN", "TIKTIMER_METRICS_WORKER_PORT", "TIKTIMER_METRICS_WORKER_HOST",
        # issue 15: JSON logs
        "TIKTIMER_LOG_FORMAT",
    }
)  # fmt: skip
SECOND_NAMES = frozenset({"AWS_REGION"})  # read too, documented beside the first name

# A valid value unlike the default, for the fields whose type does not say enough.
SAMPLES = {
    "ALGORITHM": "HS384",
    "SECRET_KEY": "k" * 40,
    "DATABASE_URL": "postgresql+asyncpg://u@db/tiktimer",
    "TIKTIMER_LOG_LEVEL": "DEBUG",
    "TIKTIMER_LOG_FORMAT": "json",
    "TIKTIMER_STORAGE": "s3",
    "TIKTIMER_CORS_ORIGINS": "https://app.example.com",
    "TIKTIMER_FETCH_ALLOW": "10.0.0.0/8",
    "TIKTIMER_MAX_UPLOAD_MB": "100",
    "TIKTIMER_MEDIA_MAX_DURATION_SEC": "180",
}


def _sample(variable: str, field: FieldInfo) -> str:
    if variable in SAMPLES:
        return SAMPLES[variable]
    if "RATE_LIMIT_" in variable and field.annotation is str:
        return "7/minute"
    default, kind = field.default, str(field.annotation)
    if "bool" in kind:
        return "false" if default else "true"
    if "int" in kind or "float" in kind:
        return str(int(default) + 1)
    if "Path" in kind:
        return "/srv/tiktimer-elsewhere"
    return f"https://example.test/{variable.lower()}"


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _value(settings: Settings, group: str, name: str) -> Any:
    return _plain(getattr(getattr(settings, group), name))


def _fields_reading(variable: str) -> list[tuple[str, str, FieldInfo]]:
    return [item for item in group_fields() if variable in variable_names(item[2])]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in VARIABLES | SECOND_NAMES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)  # no `.env` but the tests' own


def test_the_variable_names_are_exactly_the_documented_ones() -> None:
    assert known_names() == VARIABLES | SECOND_NAMES
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z0-9_]+)`", row)}
    assert documented == VARIABLES


@pytest.mark.parametrize("variable", sorted(VARIABLES))
def test_every_variable_still_sets_its_value(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = _fields_reading(variable)
    assert fields, f"{variable} is read by no setting"
    defaults = load_settings(_env_file=None)
    for group, name, field in fields:
        sample = _sample(variable, field)
        monkeypatch.setenv(variable, sample)
        from_env = _value(load_settings(_env_file=None), group, name)
        monkeypatch.delenv(variable)
        assert from_env != _value(defaults, group, name)
        assert from_env == _value(load_settings(_env_file=None, **{variable: sample}), group, name)


def test_the_second_name_of_the_region_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert load_settings(_env_file=None).storage.s3_region == "eu-north-1"


def test_every_group_reads_the_env_file_in_any_case(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "access_token_expire_minutes=45\nTIKTIMER_MAX_UPLOAD_MB=100\nTiktimer_Port=9000\n"
        "TIKTIMER_DB_POOL_SIZE=3\nTIKTIMER_MAX_HEADER_KB=8\nTIKTIMER_S3_PREFIX=p/\n"
        "TIKTOK_CLIENT_KEY=ck\nTIKTIMER_WORKER_CONCURRENCY=2\nTIKTIMER_DATA_DIR=/srv/d\n"
    )
    settings = load_settings()
    assert settings.auth.access_token_expire_minutes == 45
    assert settings.media.max_upload_mb == 100
    assert settings.server.port == 9000
    assert settings.database.pool_size == 3
    assert settings.limits.max_header_kb == 8
    assert settings.storage.s3_prefix == "p/"
    assert settings.tiktok.sandbox_enabled is False
    assert settings.scheduler.concurrency == 2
    assert settings.storage.data_dir == settings.database.data_dir == Path("/srv/d")
    assert settings.database.url == "sqlite+aiosqlite:////srv/d/tiktimer.db"
    assert load_settings(_env_file=None).server.port == 8000  # and `_env_file` reaches all


@pytest.mark.parametrize("flat", sorted(FLAT_NAMES))
def test_flat_keywords_reach_their_group(flat: str) -> None:
    group, name = FLAT_NAMES[flat]
    field = type(getattr(load_settings(_env_file=None), group)).model_fields[name]
    variable = variable_names(field)[0]
    by_flat = load_settings(_env_file=None, **{flat: _sample(variable, field)})
    by_variable = load_settings(_env_file=None, **{variable: _sample(variable, field)})
    assert _value(by_flat, group, name) == _value(by_variable, group, name)
    assert _value(by_flat, group, name) != _value(load_settings(_env_file=None), group, name)


def test_flat_data_dir_reaches_every_group_that_keeps_files(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    assert settings.storage.data_dir == settings.database.data_dir == tmp_path
    assert settings.auth.data_dir == tmp_path
    assert settings.storage.media_dir == tmp_path / "media"
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/tiktimer.db"


def test_groups_may_be_given_whole_or_as_values() -> None:
    storage = StorageSettings(_env_file=None, backend="s3", s3_bucket="b")
    assert load_settings(_env_file=None, storage=storage).storage is storage
    assert load_settings(_env_file=None, storage="s3").storage.backend == "s3"  # the flat name
    routed = load_settings(_env_file=None, storage=storage, s3_prefix="x/").storage
    assert (routed.backend, routed.s3_bucket, routed.s3_prefix) == ("s3", "b", "x/")
    assert load_settings(_env_file=None, tiktok={"client_key": "ck"}).tiktok.client_key == "ck"


def test_an_unknown_keyword_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="^Invalid setting database_uri: is not a setting$"):
        load_settings(_env_file=None, database_uri="sqlite+aiosqlite://")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIKTIMER_PORT", "eighty"),
        ("DATABASE_URL", "mysql://x"),
        ("ALGORITHM", "none"),
        ("TIKTIMER_MAX_HEADER_KB", "0"),
        ("TIKTIMER_MAX_UPLOAD_MB", "5000"),
        ("TIKTIMER_TIKTOK_DAILY_POST_CAP", "-1"),
        ("TIKTIMER_SCHEDULER_LEASE_SECONDS", "1"),
        ("TIKTIMER_RATE_LIMIT_LOGIN_IP", "often"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith(f"Invalid setting {variable}: ")
    assert "\n" not in message
    assert message.count("Invalid setting") == 1


def test_bad_values_in_several_groups_are_all_named_on_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIKTIMER_PORT", "eighty")
    monkeypatch.setenv("TIKTIMER_DATA_DIR", "/srv/d")  # read by three groups, named once
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, secret_key="changeme", data_dir=5)
    message = str(caught.value)
    assert "\n" not in message
    assert message.count("Invalid setting TIKTIMER_PORT: ") == 1
    assert message.count("Invalid setting SECRET_KEY: is a published sample value") == 1
    assert message.count("Invalid setting TIKTIMER_DATA_DIR: ") == 1


def test_values_that_span_groups() -> None:
    settings = load_settings(_env_file=None, public_url="https://tt.example/")
    base = settings.server.public_base_url
    assert base == "https://tt.example"
    assert settings.tiktok.callback_url(base) == "https://tt.example/api/v1/auth/tiktok/callback"
    given = load_settings(_env_file=None, tiktok_redirect_uri="https://r.example/cb")
    assert given.tiktok.callback_url(base) == "https://r.example/cb"
    assert load_settings(_env_file=None, tiktok_client_key="ck").tiktok.sandbox_enabled is False
    forced = load_settings(_env_file=None, tiktok_client_key="ck", tiktok_sandbox=True)
    assert forced.tiktok.sandbox_enabled is True
