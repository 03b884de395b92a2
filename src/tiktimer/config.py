"""Settings from the environment and `.env`, with the original TikTimer variable names.

Secrets never have a usable hard-coded default: `SECRET_KEY` and `TIKTIMER_TOKEN_KEYS`
are generated once into the data directory (mode 0600) when unset.
"""

from __future__ import annotations

import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from tiktimer.kit.safe_fetch import FetchPolicy

# Sample values from the original README and common templates: refused at startup.
KNOWN_SAMPLE_SECRETS = frozenset(
    {
        "your-secret-key-needs-to-be-updated",
        "your-secret-key",
        "secret",
        "changeme",
        "change-me",
        "changethis",
        "secret-key",
    }
)
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(Exception):
    """A setting is invalid; the message is one readable line naming the variable."""


def _env(name: str, *more: str) -> AliasChoices:
    return AliasChoices(name, *more)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_by_name=True,
        validate_by_alias=True,
    )

    # Security (original names)
    secret_key: SecretStr | None = Field(None, validation_alias=_env("SECRET_KEY"))
    algorithm: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", validation_alias=_env("ALGORITHM")
    )
    access_token_expire_minutes: int = Field(
        30, ge=1, le=60 * 24, validation_alias=_env("ACCESS_TOKEN_EXPIRE_MINUTES")
    )
    refresh_token_expire_days: int = Field(
        30, ge=1, le=365, validation_alias=_env("REFRESH_TOKEN_EXPIRE_DAYS")
    )

    # Storage of state
    data_dir: Path = Field(Path("./data"), validation_alias=_env("TIKTIMER_DATA_DIR"))
    database_url_raw: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    db_connect_retries: int = Field(
        5, ge=0, le=100, validation_alias=_env("TIKTIMER_DB_CONNECT_RETRIES")
    )
    db_pool_size: int = Field(10, ge=1, le=200, validation_alias=_env("TIKTIMER_DB_POOL_SIZE"))

    # HTTP server
    host: str = Field("127.0.0.1", validation_alias=_env("TIKTIMER_HOST"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=_env("TIKTIMER_PORT"))
    public_url: str | None = Field(None, validation_alias=_env("TIKTIMER_PUBLIC_URL"))
    otel: bool = Field(False, validation_alias=_env("TIKTIMER_OTEL"))
    # Browser origins allowed to call the API (README "Browsers"); none by default.
    cors_origins_raw: str = Field("", validation_alias=_env("TIKTIMER_CORS_ORIGINS"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("TIKTIMER_LOG_LEVEL")
    )
    password_hash_threads: int = Field(
        1, ge=1, le=32, validation_alias=_env("TIKTIMER_PASSWORD_HASH_THREADS")
    )
    # Input limits (README "Input limits"): JSON body cap, stalled bodies, header size
    max_json_body_kb: int = Field(
        1024, ge=1, le=64 * 1024, validation_alias=_env("TIKTIMER_MAX_JSON_BODY_KB")
    )
    body_timeout_seconds: float = Field(
        30, gt=0, le=3600, validation_alias=_env("TIKTIMER_BODY_TIMEOUT_SECONDS")
    )
    max_header_kb: int = Field(16, ge=1, le=1024, validation_alias=_env("TIKTIMER_MAX_HEADER_KB"))

    # Request limits on the credential endpoints, in the `limits` notation (README "Rate limits")
    rate_limits_enabled: bool = Field(True, validation_alias=_env("TIKTIMER_RATE_LIMITS"))
    rate_limit_login_ip: str = Field(
        "20/minute;100/hour", validation_alias=_env("TIKTIMER_RATE_LIMIT_LOGIN_IP")
    )
    # Failed logins per client address and account (the name predates accounts)
    rate_limit_login_user: str = Field(
        "5/minute;30/hour", validation_alias=_env("TIKTIMER_RATE_LIMIT_LOGIN_USER")
    )
    # Per-account ceiling (tries from new addresses, failures from known): past it, login pauses
    rate_limit_login_account: str = Field(
        "300/hour", validation_alias=_env("TIKTIMER_RATE_LIMIT_LOGIN_ACCOUNT")
    )
    login_lockout_seconds: int = Field(
        900, ge=1, le=86400, validation_alias=_env("TIKTIMER_LOGIN_LOCKOUT_SECONDS")
    )
    rate_limit_register: str = Field(
        "10/hour", validation_alias=_env("TIKTIMER_RATE_LIMIT_REGISTER")
    )
    rate_limit_refresh: str = Field(
        "60/minute", validation_alias=_env("TIKTIMER_RATE_LIMIT_REFRESH")
    )

    # TikTok (original names)
    tiktok_client_key: str | None = Field(None, validation_alias=_env("TIKTOK_CLIENT_KEY"))
    tiktok_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("TIKTOK_CLIENT_SECRET")
    )
    tiktok_redirect_uri: str | None = Field(None, validation_alias=_env("TIKTOK_REDIRECT_URI"))
    tiktok_auth_url: str = Field(
        "https://www.tiktok.com/v2/auth/authorize/", validation_alias=_env("TIKTOK_AUTH_URL")
    )
    tiktok_api_base: str = Field(
        "https://open.tiktokapis.com", validation_alias=_env("TIKTOK_API_BASE")
    )
    tiktok_scopes: str = Field(
        "user.info.basic,video.publish,video.upload", validation_alias=_env("TIKTOK_SCOPES")
    )
    tiktok_sandbox: bool | None = Field(None, validation_alias=_env("TIKTIMER_SANDBOX"))
    token_keys_raw: SecretStr | None = Field(None, validation_alias=_env("TIKTIMER_TOKEN_KEYS"))

    # Publishing to TikTok
    media_public_url: str | None = Field(None, validation_alias=_env("TIKTIMER_MEDIA_PUBLIC_URL"))
    media_url_ttl_seconds: int = Field(
        7200, ge=600, le=7 * 24 * 3600, validation_alias=_env("TIKTIMER_MEDIA_URL_TTL_SECONDS")
    )
    creator_info_cache_seconds: float = Field(
        60, ge=0, le=600, validation_alias=_env("TIKTIMER_CREATOR_INFO_CACHE_SECONDS")
    )
    tiktok_daily_post_cap: int = Field(
        15, ge=1, le=1000, validation_alias=_env("TIKTIMER_TIKTOK_DAILY_POST_CAP")
    )
    tiktok_pending_share_cap: int = Field(
        5, ge=1, le=1000, validation_alias=_env("TIKTIMER_TIKTOK_PENDING_SHARE_CAP")
    )
    status_poll_give_up_minutes: int = Field(
        30, ge=1, le=7 * 24 * 60, validation_alias=_env("TIKTIMER_STATUS_POLL_GIVE_UP_MINUTES")
    )
    webhook_tolerance_seconds: int = Field(
        300, ge=1, le=3600, validation_alias=_env("TIKTIMER_WEBHOOK_TOLERANCE_SECONDS")
    )
    sandbox_webhooks: bool = Field(False, validation_alias=_env("TIKTIMER_SANDBOX_WEBHOOKS"))

    # Server-side fetches of user-influenced URLs (README "Server-side fetches")
    fetch_allow: str = Field("", validation_alias=_env("TIKTIMER_FETCH_ALLOW"))

    # Media
    storage: Literal["local", "s3"] = Field("local", validation_alias=_env("TIKTIMER_STORAGE"))
    s3_bucket: str | None = Field(None, validation_alias=_env("TIKTIMER_S3_BUCKET"))
    s3_prefix: str = Field("", validation_alias=_env("TIKTIMER_S3_PREFIX"))
    s3_endpoint_url: str | None = Field(None, validation_alias=_env("TIKTIMER_S3_ENDPOINT_URL"))
    s3_region: str | None = Field(None, validation_alias=_env("TIKTIMER_S3_REGION", "AWS_REGION"))
    max_upload_mb: int = Field(4096, ge=1, le=4096, validation_alias=_env("TIKTIMER_MAX_UPLOAD_MB"))
    upload_dir_raw: Path | None = Field(None, validation_alias=_env("TIKTIMER_UPLOAD_DIR"))
    upload_expire_hours: int = Field(
        24, ge=1, le=24 * 30, validation_alias=_env("TIKTIMER_UPLOAD_EXPIRE_HOURS")
    )
    media_max_duration_sec: float = Field(
        600, gt=0, le=600, validation_alias=_env("TIKTIMER_MEDIA_MAX_DURATION_SEC")
    )
    media_unused_ttl_hours: int = Field(
        72, ge=1, validation_alias=_env("TIKTIMER_MEDIA_UNUSED_TTL_HOURS")
    )
    media_keep_published_days: int = Field(
        30, ge=0, validation_alias=_env("TIKTIMER_MEDIA_KEEP_PUBLISHED_DAYS")
    )
    media_gc_interval_minutes: int = Field(
        60, ge=1, le=24 * 60, validation_alias=_env("TIKTIMER_MEDIA_GC_INTERVAL_MINUTES")
    )

    # Scheduler (README "Scheduler and workers")
    run_scheduler: bool = Field(True, validation_alias=_env("TIKTIMER_RUN_SCHEDULER"))
    worker_concurrency: int = Field(
        20, ge=1, le=1000, validation_alias=_env("TIKTIMER_WORKER_CONCURRENCY")
    )
    scheduler_poll_seconds: float = Field(
        1.0, gt=0, le=60, validation_alias=_env("TIKTIMER_SCHEDULER_POLL_SECONDS")
    )
    scheduler_batch_size: int = Field(
        25, ge=1, le=500, validation_alias=_env("TIKTIMER_SCHEDULER_BATCH_SIZE")
    )
    scheduler_lease_seconds: float = Field(
        60, ge=5, le=3600, validation_alias=_env("TIKTIMER_SCHEDULER_LEASE_SECONDS")
    )
    scheduler_heartbeat_seconds: float = Field(
        5, gt=0, le=300, validation_alias=_env("TIKTIMER_SCHEDULER_HEARTBEAT_SECONDS")
    )
    scheduler_shutdown_grace_seconds: float = Field(
        20, ge=0, le=3600, validation_alias=_env("TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS")
    )
    publish_max_attempts: int = Field(
        5, ge=1, le=100, validation_alias=_env("TIKTIMER_PUBLISH_MAX_ATTEMPTS")
    )
    publish_retry_base_seconds: float = Field(
        30, ge=0, le=3600, validation_alias=_env("TIKTIMER_PUBLISH_RETRY_BASE_SECONDS")
    )
    publish_retry_cap_seconds: float = Field(
        1800, ge=0, le=86400, validation_alias=_env("TIKTIMER_PUBLISH_RETRY_CAP_SECONDS")
    )
    status_poll_first_seconds: float = Field(
        2, gt=0, le=600, validation_alias=_env("TIKTIMER_STATUS_POLL_FIRST_SECONDS")
    )
    status_poll_max_seconds: float = Field(
        30, gt=0, le=3600, validation_alias=_env("TIKTIMER_STATUS_POLL_MAX_SECONDS")
    )
    rate_limit_window_seconds: float = Field(
        61, gt=0, le=3600, validation_alias=_env("TIKTIMER_RATE_LIMIT_WINDOW_SECONDS")
    )
    rate_limit_init: int = Field(6, ge=1, validation_alias=_env("TIKTIMER_RATE_LIMIT_INIT"))
    rate_limit_status: int = Field(30, ge=1, validation_alias=_env("TIKTIMER_RATE_LIMIT_STATUS"))
    rate_limit_creator_info: int = Field(
        20, ge=1, validation_alias=_env("TIKTIMER_RATE_LIMIT_CREATOR_INFO")
    )
    redis_url: SecretStr | None = Field(None, validation_alias=_env("TIKTIMER_REDIS_URL"))

    @field_validator("secret_key")
    @classmethod
    def _refuse_sample_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw.strip().lower() in KNOWN_SAMPLE_SECRETS:
            raise ValueError(
                "is a published sample value; generate one with `openssl rand -hex 32`"
            )
        if len(raw) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
        return value

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_user",
        "rate_limit_login_account",
        "rate_limit_register",
        "rate_limit_refresh",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            items = parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit; write e.g. 10/minute or 5/minute;30/hour"
            ) from None
        if any(item.amount < 1 for item in items):
            raise ValueError("must allow at least 1 (TIKTIMER_RATE_LIMITS=false turns limits off)")
        return value

    @field_validator("fetch_allow")
    @classmethod
    def _check_fetch_allow(cls, value: str) -> str:
        from tiktimer.kit.safe_fetch import parse_allow_list

        parse_allow_list(value)  # ValueError names the bad entry
        return value

    @field_validator("cors_origins_raw")
    @classmethod
    def _check_cors_origins(cls, value: str) -> str:
        for origin in _split_list(value):
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin; write e.g. https://app.example.com "
                    "(scheme and host, optional port, no path), comma-separated"
                )
        return value

    @field_validator("database_url_raw")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith(("postgres://", "postgresql://")):
            # Accept the common spelling and use the async driver.
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def database_url(self) -> str:
        if self.database_url_raw:
            return self.database_url_raw
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tiktimer.db').as_posix()}"

    @property
    def cors_origins(self) -> list[str]:
        return [origin.rstrip("/") for origin in _split_list(self.cors_origins_raw)]

    @property
    def media_dir(self) -> Path:
        """Root of the `local` storage backend."""
        return self.data_dir / "media"

    @property
    def upload_dir(self) -> Path:
        """Uploads in progress; on the same filesystem as `media_dir`, a finished one is renamed."""
        return self.upload_dir_raw or self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sandbox_enabled(self) -> bool:
        """The built-in TikTok emulator stands in for TikTok when no credentials are set."""
        if self.tiktok_sandbox is not None:
            return self.tiktok_sandbox
        return not self.tiktok_client_key

    @property
    def public_base_url(self) -> str:
        """Where browsers and TikTok reach this service (no trailing slash)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def media_public_base_url(self) -> str:
        """Where TikTok fetches photo-post images from (PULL_FROM_URL needs https)."""
        return (self.media_public_url or self.public_base_url).rstrip("/")

    @property
    def fetch_policy(self) -> FetchPolicy:
        """What server-side fetches of user-influenced URLs may reach (kit.safe_fetch)."""
        from tiktimer.kit.safe_fetch import FetchPolicy

        return FetchPolicy.from_allow_list(self.fetch_allow)

    @property
    def redirect_uri(self) -> str:
        return self.tiktok_redirect_uri or f"{self.public_base_url}/api/v1/auth/tiktok/callback"

    @cached_property
    def jwt_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _generated_secret(self.data_dir / "secret_key", 48)

    @cached_property
    def token_keys(self) -> list[str]:
        """Fernet keys for TikTok tokens at rest: the first encrypts, all decrypt."""
        if self.token_keys_raw is not None:
            keys = [k.strip() for k in self.token_keys_raw.get_secret_value().split(",")]
            return [k for k in keys if k]
        from cryptography.fernet import Fernet

        return [_generated_secret(self.data_dir / "token_key", 0, Fernet.generate_key)]


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+/?")


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _generated_secret(path: Path, nbytes: int, make: object = None) -> str:
    """Read a secret kept in the data dir, creating it (mode 0600) the first time.

    Several processes may start at once (`serve --workers N`): each writes a candidate to
    its own temporary file and hard-links it into place, which succeeds for exactly one,
    so every process reads the same complete key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = make().decode() if callable(make) else secrets.token_urlsafe(nbytes)
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


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable line per variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    fields = Settings.model_fields
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        field = fields.get(name)
        alias = field.validation_alias if field else None
        if isinstance(alias, AliasChoices):
            name = str(alias.choices[0])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"Invalid setting {name}: {message}")
    return "; ".join(lines)
