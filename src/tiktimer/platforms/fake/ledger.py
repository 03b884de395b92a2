"""What the fake platform has published: one line per publication in a shared file.

Every process of one deployment (API, workers) appends to the same file under the data
directory, so a test can count publications per post across worker processes, and a
status check in one process sees an upload another process finished.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[str] = set()  # this process's own publications

    async def record(self, post_id: int, publish_id: str) -> None:
        await asyncio.to_thread(self._append, f"{post_id} {publish_id}\n")
        self._seen.add(publish_id)

    async def has(self, publish_id: str) -> bool:
        if publish_id in self._seen:
            return True
        return publish_id in await asyncio.to_thread(self._publish_ids)

    def publications(self) -> list[tuple[int, str]]:
        """(post id, publish id) of every publication, oldest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [(int(post), publish) for post, publish in (line.split() for line in lines)]

    def _publish_ids(self) -> set[str]:
        return {publish_id for _, publish_id in self.publications()}

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write(2) in O_APPEND mode: lines from concurrent processes never interleave.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)


def ledger_path(data_dir: Path) -> Path:
    return data_dir / "fake-platform" / "publications.log"
