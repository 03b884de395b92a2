"""The TikTok sandbox's state, shared by every API and worker process of an installation.

One row holds the emulator's whole persistent state as a versioned JSON snapshot; each
emulator operation runs under this row's lock and bumps `version` when it changes anything,
so a process reloads the snapshot only when another one moved it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now

SANDBOX_STATE_ROW = 1


class SandboxState(Model):
    __tablename__ = "sandbox_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
