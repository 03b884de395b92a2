"""Who is calling: the JWT key, token lifetimes, password hashing, the login limits, and the
keys of platform tokens at rest.

Secrets never have a usable hard-coded default: `SECRET_KEY` and `TIKTIMER_TOKEN_KEYS` are
generated once into the data directory (mode 0600) when unset.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator

from tiktimer.config._base import DataDirSettings, env, generated_secret

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


class AuthSettings(DataDirSettings):
    # Original TikTimer names
    secret_key: SecretStr | None = Field(None, validation_alias=env("SECRET_KEY"))
    algorithm: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", validation_alias=env("ALGORITHM")
    )
    access_token_expire_minutes: int = Field(
        30, ge=1, le=60 * 24, validation_alias=env("ACCESS_TOKEN_EXPIRE_MINUTES")
    )
    refresh_token_expire_days: int = Field(
        30, ge=1, le=365, validation_alias=env("REFRESH_TOKEN_EXPIRE_DAYS")
    )
    password_hash_threads: int = Field(
        1, ge=1, le=32, validation_alias=env("TIKTIMER_PASSWORD_HASH_THREADS")
    )
    token_keys_raw: SecretStr | None = Field(None, validation_alias=env("TIKTIMER_TOKEN_KEYS"))

    # Request limits on the credential endpoints, in the `limits` notation (README "Rate limits")
    rate_limits_enabled: bool = Field(True, validation_alias=env("TIKTIMER_RATE_LIMITS"))
    rate_limit_login_ip: str = Field(
        "20/minute;100/hour", validation_alias=env("TIKTIMER_RATE_LIMIT_LOGIN_IP")
    )
    # Failed logins per client address and account (the name predates accounts)
    rate_limit_login_user: str = Field(
        "5/minute;30/hour", validation_alias=env("TIKTIMER_RATE_LIMIT_LOGIN_USER")
    )
    # Per-account ceiling (tries from new addresses, failures from known): past it, login pauses
    rate_limit_login_account: str = Field(
        "300/hour", validation_alias=env("TIKTIMER_RATE_LIMIT_LOGIN_ACCOUNT")
    )
    login_lockout_seconds: int = Field(
        900, ge=1, le=86400, validation_alias=env("TIKTIMER_LOGIN_LOCKOUT_SECONDS")
    )
    rate_limit_register: str = Field(
        "10/hour", validation_alias=env("TIKTIMER_RATE_LIMIT_REGISTER")
    )
    rate_limit_refresh: str = Field(
        "60/minute", validation_alias=env("TIKTIMER_RATE_LIMIT_REFRESH")
    )

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

    @cached_property
    def jwt_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return generated_secret(self.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))

    @cached_property
    def token_keys(self) -> list[str]:
        """Fernet keys for TikTok tokens at rest: the first encrypts, all decrypt."""
        if self.token_keys_raw is not None:
            keys = [k.strip() for k in self.token_keys_raw.get_secret_value().split(",")]
            return [k for k in keys if k]
        from cryptography.fernet import Fernet

        return [
            generated_secret(self.data_dir / "token_key", lambda: Fernet.generate_key().decode())
        ]
