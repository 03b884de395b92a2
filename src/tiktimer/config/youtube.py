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
    # Unset: on when no client id is set and TikTok's sandbox is on (the installation is a
    # sandbox); see `platforms.youtube.connection.sandboxed`
    sandbox: bool | None = Field(None, validation_alias=env("TIKTIMER_YOUTUBE_SANDBOX"))

    def callback_url(self, public_base_url: str) -> str:
        return self.redirect_uri or f"{public_base_url}{CALLBACK_PATH}"
