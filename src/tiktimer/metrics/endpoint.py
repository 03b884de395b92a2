"""`GET /metrics`: this process's counters and the cluster's figures, in Prometheus' format.

The process's own families (HTTP, platform calls, pacing waits, token refreshes, webhooks
received, and prometheus-client's `process_*`) come from its default registry; the
cluster-wide ones are read from the database now (`metrics.cluster`). When the database
does not answer in time, the process's families still go out, with
`tiktimer_cluster_scrape_ok 0` saying the rest is missing.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.errors import Forbidden
from tiktimer.kit.time import utc_now
from tiktimer.metrics.access import allowed
from tiktimer.metrics.cluster import Tallies, read_cluster
from tiktimer.metrics.families import cluster_families
from tiktimer.services import services_of

log = logging.getLogger("tiktimer.metrics")

CLUSTER_TIMEOUT_SECONDS = 5.0

router = APIRouter(tags=["metrics"])

# Each process's folded counts, per database engine (an app; in tests, several).
_TALLIES: weakref.WeakKeyDictionary[AsyncEngine, Tallies] = weakref.WeakKeyDictionary()


def _tallies(engine: AsyncEngine) -> Tallies:
    tallies = _TALLIES.get(engine)
    if tallies is None:
        tallies = _TALLIES[engine] = Tallies.for_engine(engine)
    return tallies


class _Families:
    """A collector of families already built (prometheus-client collects synchronously)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus' scrape target: the bearer token, or loopback without it (README)."""
    services = services_of(request.app)
    settings = services.settings
    client = request.client.host if request.client else None
    if not allowed(
        settings.metrics.token_value,
        request.headers.get("authorization"),
        client,
        request.headers,
    ):
        raise Forbidden("Metrics need TIKTIMER_METRICS_TOKEN as a bearer token")
    families: list[Metric] = []
    ok = 1
    try:
        async with asyncio.timeout(CLUSTER_TIMEOUT_SECONDS):
            engine = services.read_engine
            snapshot = await read_cluster(engine, utc_now(), _tallies(engine))
        families.extend(cluster_families(snapshot, settings.scheduler.heartbeat_seconds))
    except Exception as exc:  # the process's own figures are still worth sending
        log.warning("metrics.cluster.unavailable error=%s", type(exc).__name__)
        ok = 0
    families.append(
        GaugeMetricFamily(
            "tiktimer_cluster_scrape_ok",
            "1 when the cluster's figures were read from the database for this scrape.",
            value=ok,
        )
    )
    cluster = CollectorRegistry(auto_describe=False)
    cluster.register(_Families(families))
    body = generate_latest(REGISTRY) + generate_latest(cluster)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
