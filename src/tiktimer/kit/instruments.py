"""The process's own counters, recorded where things happen and read by `tiktimer.metrics`.

They live in `kit` because platforms, accounts and the pacing code all record into them
and `kit` is the one layer every package may import. They are module-level, as
prometheus-client intends: one set per process, on its default registry. Everything here is
per process (this API process, or one worker); the cluster-wide figures are read from the
database at scrape time instead (`tiktimer.metrics.cluster`).

Labels are bounded vocabularies only (route templates, endpoint names, error actions),
never ids, paths or free text.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

# No `*_created` series beside every counter and histogram: they double the output and
# nothing we chart or alert on reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

HTTP_REQUESTS = Counter(
    "tiktimer_http_requests",
    "HTTP requests answered by this process, by method, route template and status.",
    ("method", "route", "status"),
)
HTTP_LATENCY = Histogram(
    "tiktimer_http_request_duration_seconds",
    "Time from a request's arrival to its response's last byte, by method and route template.",
    ("method", "route"),
    buckets=LATENCY_BUCKETS,
)
PLATFORM_CALLS = Counter(
    "tiktimer_platform_api_calls",
    "Calls this process made to a platform's API, by endpoint and result "
    "(ok, or the error's action: retry, refresh_token, reauthorize, reinitialize, give_up, "
    "network).",
    ("platform", "endpoint", "result"),
)
PLATFORM_LATENCY = Histogram(
    "tiktimer_platform_api_call_duration_seconds",
    "Duration of this process's platform API calls, by endpoint.",
    ("platform", "endpoint"),
    buckets=LATENCY_BUCKETS,
)
RATE_LIMIT_WAITS = Histogram(
    "tiktimer_rate_limit_wait_seconds",
    "Waits imposed by pacing before a post's next platform call, in this process.",
    buckets=WAIT_BUCKETS,
)
TOKEN_REFRESHES = Counter(
    "tiktimer_token_refreshes",
    "Access token refreshes this process attempted, by platform and result "
    "(ok, reauthorize: the platform refused and the account needs reconnecting, failed).",
    ("platform", "result"),
)
WEBHOOKS_RECEIVED = Counter(
    "tiktimer_webhooks_received",
    "Platform webhook deliveries this process received, by result (applied, duplicate, rejected).",
    ("platform", "result"),
)


def platform_call(platform: str, endpoint: str, result: str, seconds: float) -> None:
    """Record one platform API call."""
    PLATFORM_CALLS.labels(platform, endpoint, result).inc()
    PLATFORM_LATENCY.labels(platform, endpoint).observe(seconds)
