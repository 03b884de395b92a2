"""Every table, imported here so Alembic and the app see one metadata."""

from tiktimer.models.account import AccountStatus, OAuthState, SocialAccount
from tiktimer.models.attempt import PostAttempt
from tiktimer.models.audit import AuditEvent
from tiktimer.models.idempotency import IdempotencyKey
from tiktimer.models.imported import ImportedRow
from tiktimer.models.media import Media
from tiktimer.models.notification import (
    NotificationDelivery,
    NotificationEndpoint,
    NotificationEvent,
)
from tiktimer.models.planning import (
    CalendarFeed,
    PostingQueue,
    PostSeries,
    QueuedPost,
    SeriesOccurrence,
    SeriesStatus,
)
from tiktimer.models.post import Post, PostMedia, PostStatus
from tiktimer.models.sandbox import SandboxState
from tiktimer.models.upload import ResumableUpload
from tiktimer.models.user import RefreshToken, User
from tiktimer.models.webhook import WebhookEvent
from tiktimer.models.worker import RateLimitHit, WorkerHeartbeat

__all__ = [
    "AccountStatus",
    "AuditEvent",
    "IdempotencyKey",
    "CalendarFeed",
    "ImportedRow",
    "Media",
    "NotificationDelivery",
    "NotificationEndpoint",
    "NotificationEvent",
    "OAuthState",
    "Post",
    "PostAttempt",
    "PostMedia",
    "PostSeries",
    "PostStatus",
    "PostingQueue",
    "QueuedPost",
    "RateLimitHit",
    "RefreshToken",
    "ResumableUpload",
    "SandboxState",
    "SeriesOccurrence",
    "SeriesStatus",
    "SocialAccount",
    "User",
    "WebhookEvent",
    "WorkerHeartbeat",
]
