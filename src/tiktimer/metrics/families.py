"""The cluster snapshot as Prometheus metric families (names listed in `CLUSTER_NAMES`)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from tiktimer.kit.time import ensure_utc
from tiktimer.metrics.cluster import ClusterSnapshot, Counts
from tiktimer.metrics.lag import LAG_BUCKETS

# A worker that missed this many heartbeats counts as stale (as /health says).
MISSED_BEATS = 3


def cluster_families(snapshot: ClusterSnapshot, heartbeat_seconds: float) -> Iterator[Metric]:
    """Every cluster-wide family, from one snapshot."""
    yield _gauge(
        "tiktimer_posts", "Posts by platform and status.", ("platform", "status"), snapshot.posts
    )
    yield _gauge(
        "tiktimer_accounts",
        "Connected accounts by platform and status (reauth_required: needs reconnecting).",
        ("platform", "status"),
        snapshot.accounts,
    )
    yield from _queue(snapshot)
    yield from _workers(snapshot, heartbeat_seconds)
    yield _lag(snapshot)
    outcomes = CounterMetricFamily(
        "tiktimer_publish_outcomes",
        "Publish attempts that ended, by platform, outcome and error class (the error code).",
        labels=("platform", "outcome", "error_class"),
    )
    for key, count in sorted(snapshot.outcomes.items()):
        outcomes.add_metric(key, count)
    yield outcomes
    webhooks = CounterMetricFamily(
        "tiktimer_webhook_events",
        "Platform webhook events recorded (deduplicated, cluster-wide), by event.",
        labels=("event",),
    )
    for key, count in sorted(snapshot.webhook_events.items()):
        webhooks.add_metric(key, count)
    yield webhooks
    yield _gauge(
        "tiktimer_notification_deliveries",
        "Outgoing notification webhook deliveries by status (pending, delivered, failed).",
        ("status",),
        snapshot.deliveries,
    )


def _gauge(name: str, documentation: str, labels: tuple[str, ...], counts: Counts) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, count in sorted(counts.items()):
        family.add_metric(key, count)
    return family


def _queue(snapshot: ClusterSnapshot) -> Iterator[Metric]:
    queue = snapshot.queue
    yield GaugeMetricFamily(
        "tiktimer_due_unclaimed_posts",
        "Posts due now that no dispatcher has claimed yet.",
        value=queue.due_unclaimed,
    )
    yield GaugeMetricFamily(
        "tiktimer_oldest_due_lag_seconds",
        "How long the oldest due, unclaimed post has been waiting.",
        value=queue.oldest_due_lag_seconds,
    )
    yield GaugeMetricFamily(
        "tiktimer_leases_held",
        "Posts being published under a worker's lease.",
        value=queue.in_flight,
    )
    yield GaugeMetricFamily(
        "tiktimer_leases_expired",
        "Posts held by a worker whose lease ran out (awaiting recovery).",
        value=queue.awaiting_recovery,
    )


def _workers(snapshot: ClusterSnapshot, heartbeat_seconds: float) -> Iterator[Metric]:
    ages = GaugeMetricFamily(
        "tiktimer_worker_heartbeat_age_seconds",
        "Seconds since each dispatcher's last heartbeat.",
        labels=("worker_id", "hostname"),
    )
    live = 0
    for row in snapshot.queue.workers:
        age = max(0.0, (snapshot.now - ensure_utc(row["last_seen_at"])).total_seconds())
        ages.add_metric((str(row["worker_id"]), str(row["hostname"])), round(age, 3))
        live += age <= heartbeat_seconds * MISSED_BEATS
    yield ages
    yield GaugeMetricFamily(
        "tiktimer_workers_live",
        f"Dispatchers whose last heartbeat is at most {MISSED_BEATS} intervals old.",
        value=live,
    )


def _lag(snapshot: ClusterSnapshot) -> Metric:
    family = HistogramMetricFamily(
        "tiktimer_publish_lag_seconds",
        "Each post's first publish attempt (the init) minus its scheduled time.",
        labels=("platform",),
    )
    bounds = [*(repr(b) for b in LAG_BUCKETS), "+Inf"]  # "1.0": as Histogram writes it
    for platform, histogram in sorted(snapshot.lag.items()):
        family.add_metric(
            (platform,), list(zip(bounds, histogram.buckets, strict=True)), histogram.sum
        )
    return family
