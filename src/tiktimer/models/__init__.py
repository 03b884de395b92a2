"""Every table, imported here so Alembic and the app see one metadata."""

from tiktimer.models.account import AccountStatus, OAuthState, SocialAccount
from tiktimer.models.attempt import PostAttempt
from tiktimer.models.audit import AuditEvent
from tiktimer.models.media import Media
from tiktimer.models.post import Post, PostMedia, PostStatus
from tiktimer.models.sandbox import SandboxState
from tiktimer.models.upload import ResumableUpload
from tiktimer.models.user import RefreshToken, User
from tiktimer.models.webhook import WebhookEvent
from tiktimer.models.worker import RateLimitHit, WorkerHeartbeat

__all__ = [
    "AccountStatus",
    "AuditEvent",
    "Media",
    "OAuthState",
    "Post",
    "PostAttempt",
    "PostMedia",
    "PostStatus",
    "RateLimitHit",
    "RefreshToken",
    "ResumableUpload",
    "SandboxState",
    "SocialAccount",
    "User",
    "WebhookEvent",
    "WorkerHeartbeat",
]
