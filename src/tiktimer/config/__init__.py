"""Settings from the environment and `.env`, with the original TikTimer variable names.

`Settings` has one group per concern, each its own `BaseSettings` reading its variables:
`server` (listening, public URLs, CORS, logs, fetches), `database`, `auth` (JWT, tokens,
passwords, login limits, token keys), `limits` (request bodies and headers), `storage`
(data directory, local disk or S3, uploads in progress), `media` (upload size, verdict,
retention), `tiktok` (credentials, sandbox, webhooks, caps, call budgets), `youtube` (the
Google OAuth client, its sandbox), `scheduler` (dispatchers, leases, retries, polls,
pacing, Redis), `planning` and `metrics` (who reads `/metrics`, the workers' metrics port).
`load_settings` turns any invalid value into a `SettingsError` of one line naming the
variable.
"""

from tiktimer.config.auth import AuthSettings
from tiktimer.config.database import DatabaseSettings
from tiktimer.config.limits import LimitSettings
from tiktimer.config.media import MediaSettings
from tiktimer.config.metrics import MetricsSettings
from tiktimer.config.scheduler import SchedulerSettings
from tiktimer.config.server import ServerSettings
from tiktimer.config.settings import (
    Settings,
    SettingsError,
    group_fields,
    load_settings,
    variable_names,
)
from tiktimer.config.storage import StorageSettings
from tiktimer.config.tiktok import TikTokSettings
from tiktimer.config.youtube import YouTubeSettings

__all__ = [
    "AuthSettings",
    "DatabaseSettings",
    "LimitSettings",
    "MediaSettings",
    "MetricsSettings",
    "SchedulerSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "StorageSettings",
    "TikTokSettings",
    "YouTubeSettings",
    "group_fields",
    "load_settings",
    "variable_names",
]
