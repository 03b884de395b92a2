"""One structured log line per state change of a post: `posts.state post_id=… from=… to=…`."""

from __future__ import annotations

import logging

log = logging.getLogger("tiktimer.scheduler")


def state_changed(post_id: int, source: str, target: str, reason: str, **extra: object) -> None:
    """`source`/`target` are `status` or `status:stage` (e.g. `publishing:uploading`)."""
    details = "".join(f" {key}={value}" for key, value in extra.items() if value is not None)
    log.info(
        "posts.state post_id=%d from=%s to=%s reason=%s%s", post_id, source, target, reason, details
    )
