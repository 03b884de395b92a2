"""Google's URLs for the client (youtube-api.md §1), or one emulator's base for all of them."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    # Without it videos.list (the processing verdict) answers 403 (§2.8).
    "https://www.googleapis.com/auth/youtube.readonly",
)


@dataclass(frozen=True, slots=True)
class GoogleEndpoints:
    authorize: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token: str = "https://oauth2.googleapis.com/token"
    revoke: str = "https://oauth2.googleapis.com/revoke"
    upload: str = "https://www.googleapis.com/upload/youtube/v3/videos"
    videos: str = "https://www.googleapis.com/youtube/v3/videos"
    channels: str = "https://www.googleapis.com/youtube/v3/channels"

    @classmethod
    def at(cls, base: str) -> GoogleEndpoints:
        """Every endpoint under one base URL, as the emulator serves them."""
        base = base.rstrip("/")
        return cls(
            authorize=f"{base}/o/oauth2/v2/auth",
            token=f"{base}/token",
            revoke=f"{base}/revoke",
            upload=f"{base}/upload/youtube/v3/videos",
            videos=f"{base}/youtube/v3/videos",
            channels=f"{base}/youtube/v3/channels",
        )
