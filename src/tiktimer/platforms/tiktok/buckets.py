"""TikTok's rate buckets (reference §7): per user access token and sliding minute."""

from __future__ import annotations

INIT_BUCKET = "init"  # 6 publish inits
STATUS_BUCKET = "status"  # 30 status fetches
CREATOR_INFO_BUCKET = "creator_info"  # 20 creator_info queries


def start_buckets(post_mode: str | None) -> tuple[str, ...]:
    """A direct post's creator_info call is paced with its init (one grant); an inbox draft
    needs no creator_info."""
    return (INIT_BUCKET,) if post_mode == "inbox" else (INIT_BUCKET, CREATOR_INFO_BUCKET)
