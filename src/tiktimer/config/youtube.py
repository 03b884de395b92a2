"""YouTube: the Google OAuth client, and the built-in sandbox when there is none."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tiktimer.config._base import GroupSettings, env

# Where Google redirects after consent when TIKTIMER_YOUTUBE_REDIRECT_URI is unset
CALLBACK_PATH = "/api/v1/auth/youtube/callback"


class YouTubeSettings(GroupSettings):
    client_id: str | None = Field(None, validation_alias=env("TIKTIMER_YOUTUBE_CLIENT_ID"))
    client_secret: SecretStr | None = Field(
        None, validation_alias=env("TIKTIMER_YOUTUBE_CLIENT_SECRET")
    )
    # Unset: derived from the server's public URL (`callback_url`)
    redirect_uri: str | None = Field(None, validation_alias=env("TIKTIMER_YOUTUBE_REDIRECT_URI"))
    # Unset: on exactly when no client id is set (as TikTok's sandbox)
    sandbox: bool | None = Field(None, validation_alias=env("TIKTIMER_YOUTUBE_SANDBOX"))

    @property
    def sandbox_enabled(self) -> bool:
        """The built-in YouTube emulator stands in for Google when no client is set."""
        if self.sandbox is not None:
            return self.sandbox
        return not self.client_id

    def callback_url(self, public_base_url: str) -> str:
        return self.redirect_uri or f"{public_base_url}{CALLBACK_PATH}"
