"""TikTok: the app's credentials, sandbox mode, webhooks, per-account caps and call budgets."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tiktimer.config._base import GroupSettings, env

# Where TikTok redirects after consent when TIKTOK_REDIRECT_URI is unset (under the public URL)
CALLBACK_PATH = "/api/v1/auth/tiktok/callback"


class TikTokSettings(GroupSettings):
    # Original TikTimer names
    client_key: str | None = Field(None, validation_alias=env("TIKTOK_CLIENT_KEY"))
    client_secret: SecretStr | None = Field(None, validation_alias=env("TIKTOK_CLIENT_SECRET"))
    # Unset: derived from the server's public URL (`callback_url`)
    redirect_uri: str | None = Field(None, validation_alias=env("TIKTOK_REDIRECT_URI"))
    auth_url: str = Field(
        "https://www.tiktok.com/v2/auth/authorize/", validation_alias=env("TIKTOK_AUTH_URL")
    )
    api_base: str = Field("https://open.tiktokapis.com", validation_alias=env("TIKTOK_API_BASE"))
    scopes: str = Field(
        "user.info.basic,video.publish,video.upload", validation_alias=env("TIKTOK_SCOPES")
    )

    sandbox: bool | None = Field(None, validation_alias=env("TIKTIMER_SANDBOX"))
    sandbox_webhooks: bool = Field(False, validation_alias=env("TIKTIMER_SANDBOX_WEBHOOKS"))
    webhook_tolerance_seconds: int = Field(
        300, ge=1, le=3600, validation_alias=env("TIKTIMER_WEBHOOK_TOLERANCE_SECONDS")
    )
    creator_info_cache_seconds: float = Field(
        60, ge=0, le=600, validation_alias=env("TIKTIMER_CREATOR_INFO_CACHE_SECONDS")
    )
    daily_post_cap: int = Field(
        15, ge=1, le=1000, validation_alias=env("TIKTIMER_TIKTOK_DAILY_POST_CAP")
    )
    pending_share_cap: int = Field(
        5, ge=1, le=1000, validation_alias=env("TIKTIMER_TIKTOK_PENDING_SHARE_CAP")
    )
    # Calls per account per pacing window, for each of TikTok's rate buckets
    rate_limit_init: int = Field(6, ge=1, validation_alias=env("TIKTIMER_RATE_LIMIT_INIT"))
    rate_limit_status: int = Field(30, ge=1, validation_alias=env("TIKTIMER_RATE_LIMIT_STATUS"))
    rate_limit_creator_info: int = Field(
        20, ge=1, validation_alias=env("TIKTIMER_RATE_LIMIT_CREATOR_INFO")
    )

    @property
    def sandbox_enabled(self) -> bool:
        """The built-in TikTok emulator stands in for TikTok when no credentials are set."""
        if self.sandbox is not None:
            return self.sandbox
        return not self.client_key

    def callback_url(self, public_base_url: str) -> str:
        """The OAuth redirect URI: TIKTOK_REDIRECT_URI, or the callback under the public URL."""
        return self.redirect_uri or f"{public_base_url}{CALLBACK_PATH}"
