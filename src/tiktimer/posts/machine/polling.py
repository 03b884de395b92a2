"""How long and how often the scheduler polls a publish (issue 5.5), as values it can use.

TikTok allows 30 status calls per minute per token, so polls of one publish start 5 s
apart and stretch to a minute (never closer than 2 s). Processing takes under a minute
for most videos and a few minutes for 4 GB ones (reference §4.5); after `GIVE_UP_AFTER`
without a terminal status the post becomes `unconfirmed` ("TikTok has not confirmed it")
instead of being polled forever. A webhook arriving later can still settle it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tiktimer.platforms.tiktok.client import STATUS_POLL_BACKOFF

GIVE_UP_AFTER = timedelta(minutes=30)


def poll_delay(attempt: int) -> float:
    """Seconds to wait before status poll number `attempt` (0-based) of one publish."""
    return STATUS_POLL_BACKOFF.delay(attempt)


def should_give_up(
    polling_since: datetime, now: datetime, *, give_up_after: timedelta = GIVE_UP_AFTER
) -> bool:
    """True once a publish has been polled for longer than `give_up_after`."""
    return now - polling_since >= give_up_after


def not_confirmed_message(give_up_after: timedelta, title: str) -> str:
    minutes = int(give_up_after.total_seconds() // 60)
    return (
        f"{title} has not confirmed this post after {minutes} minutes of checking. It may "
        f"still appear on the account; TikTimer updates it if {title} reports back."
    )
