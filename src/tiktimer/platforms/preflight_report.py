"""What pre-flight says: one `Issue` per reason, gathered in a `PreflightReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tiktimer.kit.time import utc_now

VIDEO_CAPTION_MAX = 2200
PHOTO_TITLE_MAX = 90
PHOTO_DESCRIPTION_MAX = 4000
MEDIA_REQUIRED = "media_required"
ACCOUNT_REQUIRED = "account_required"
#: Errors that mark a post incomplete rather than wrong: saving it is still allowed.
INCOMPLETE = frozenset({MEDIA_REQUIRED, ACCOUNT_REQUIRED})


@dataclass(frozen=True, slots=True)
class Issue:
    """One reason, tied to the request field a user would change to fix it."""

    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class PreflightReport:
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    checked_at: datetime = field(default_factory=utc_now)

    @property
    def ok(self) -> bool:
        """Publishable as it stands."""
        return not self.errors

    @property
    def needs_media(self) -> bool:
        return any(issue.code == MEDIA_REQUIRED for issue in self.errors)

    @property
    def needs_account(self) -> bool:
        return any(issue.code == ACCOUNT_REQUIRED for issue in self.errors)

    @property
    def blocking(self) -> tuple[Issue, ...]:
        """Errors that make a scheduled post wrong, not merely incomplete."""
        return tuple(issue for issue in self.errors if issue.code not in INCOMPLETE)

    def message(self) -> str:
        """Every error as one sentence list, for `last_error`."""
        return "; ".join(issue.message for issue in self.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": [issue.as_json() for issue in self.errors],
            "warnings": [issue.as_json() for issue in self.warnings],
            "needs_media": self.needs_media,
            "needs_account": self.needs_account,
            "checked_at": self.checked_at.isoformat(),
        }
