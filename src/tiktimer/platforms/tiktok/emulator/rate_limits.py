"""Sliding one-minute windows per access token, as TikTok documents for its v2 APIs (§7)."""

from __future__ import annotations

from collections import defaultdict, deque

from .config import RateLimits


class SlidingWindowLimiter:
    """Counts accepted calls per (bucket, key); refused calls do not count."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._calls: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)

    def bucket_for(self, endpoint: str) -> str:
        if endpoint in ("video_init", "inbox_init", "content_init"):
            return "init" if self._limits.shared_init_bucket else endpoint
        return endpoint

    def limit_for(self, endpoint: str) -> int | None:
        limits = self._limits
        per_endpoint = {
            "video_init": limits.init,
            "inbox_init": limits.init,
            "content_init": limits.init,
            "creator_info": limits.creator_info,
            "status": limits.status,
            "user_info": limits.user_info,
            "cancel": limits.cancel,
        }
        return per_endpoint.get(endpoint)

    def allow(self, endpoint: str, key: str, now: float) -> bool:
        """Record a call and say whether it fits in the window; not thread-safe on its own."""
        limit = self.limit_for(endpoint)
        if limit is None:
            return True
        calls = self._calls[(self.bucket_for(endpoint), key)]
        while calls and calls[0] <= now - self._limits.window_seconds:
            calls.popleft()
        if len(calls) >= limit:
            return False
        calls.append(now)
        return True

    def clear(self) -> None:
        self._calls.clear()

    def records(self, now: float) -> dict[str, dict[str, list[float]]]:
        """Calls still inside their window, by bucket then key (JSON-ready)."""
        horizon = now - self._limits.window_seconds
        records: dict[str, dict[str, list[float]]] = {}
        for (bucket, key), calls in self._calls.items():
            recent = [at for at in calls if at > horizon]
            if recent:
                records.setdefault(bucket, {})[key] = recent
        return records

    def restore(self, records: dict[str, dict[str, list[float]]]) -> None:
        self._calls = defaultdict(deque)
        for bucket, keys in records.items():
            for key, calls in keys.items():
                self._calls[(bucket, key)] = deque(calls)
