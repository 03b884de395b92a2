"""What every check reads: the settings and, once it has been reached, the database.

The database check opens the one engine (`one_off`: no pool, nothing to dispose) and
records whether it answered, so the checks that need the database say "not checked"
instead of failing a second time for the same cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.config import Settings


@dataclass
class DoctorContext:
    environ: Mapping[str, str]
    env_file: Path | None = Path(".env")
    settings: Settings | None = None
    engine: AsyncEngine | None = None
    database_ok: bool = False

    @property
    def production(self) -> bool:
        """Real TikTok (sandbox off) is production: TikTok then needs HTTPS redirects."""
        return self.settings is not None and not self.settings.tiktok.sandbox_enabled
