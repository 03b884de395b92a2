"""What the Instagram client hands back: plain frozen values, secrets as `SecretStr`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr

# §2.3: a long-lived token can be refreshed once it is 24 h old and until it expires;
# refreshing weekly (§12) keeps a token far from its 60 days whatever the pace of posts.
REFRESH_MIN_AGE = timedelta(hours=24)
REFRESH_EVERY = timedelta(days=7)


@dataclass(frozen=True)
class ShortLivedToken:
    """The code exchange's answer (§2.2): 1 hour, for the long-lived exchange only."""

    access_token: SecretStr
    user_id: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class TokenSet:
    """A long-lived Instagram User token (§2.3); there is no separate refresh token."""

    access_token: SecretStr
    issued_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def refresh_due(self, now: datetime) -> bool:
        """Time to refresh: a week old (or a day before expiry), never before 24 h."""
        if self.expired(now) or now - self.issued_at < REFRESH_MIN_AGE:
            return False
        return now - self.issued_at >= REFRESH_EVERY or self.expires_at - now <= timedelta(days=1)


class AccountType(enum.StrEnum):
    BUSINESS = "BUSINESS"
    CREATOR = "MEDIA_CREATOR"
    PERSONAL = "PERSONAL"


PROFESSIONAL = frozenset({AccountType.BUSINESS, AccountType.CREATOR})


@dataclass(frozen=True)
class AccountFacts:
    user_id: str  # the id publishing uses (§2.4)
    username: str
    account_type: str | None  # None when Instagram did not say

    @property
    def professional(self) -> bool:
        """Only Business and Creator accounts publish (§1.1); unknown is not professional."""
        return self.account_type in PROFESSIONAL


class ContainerStatusCode(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    PUBLISHED = "PUBLISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class ContainerStatus:
    status_code: ContainerStatusCode
    status: str | None  # Meta's text, e.g. "Error: … error code 2207082"


@dataclass(frozen=True)
class PublishingLimit:
    """`content_publishing_limit` (§7.1): posts published in the moving window, and the cap."""

    quota_usage: int
    quota_total: int
    quota_duration: int

    @property
    def reached(self) -> bool:
        return self.quota_usage >= self.quota_total


@dataclass(frozen=True)
class Reel:
    """One Reel to publish. `video_url` must be a public HTTPS URL Meta can fetch; None
    for a resumable upload (`InstagramClient.create_resumable_reel`)."""

    video_url: str | None = None
    caption: str = ""
    share_to_feed: bool | None = None
    thumb_offset_ms: int | None = None
    cover_url: str | None = None
