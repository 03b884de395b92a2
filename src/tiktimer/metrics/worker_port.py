"""A worker's own metrics on `TIKTIMER_METRICS_WORKER_PORT` (README "Metrics").

A worker serves no HTTP otherwise, so this is prometheus-client's small server on a
thread: the process's default registry only (platform calls, pacing waits, token
refreshes, `process_*`). The cluster's figures are the API's `/metrics`. It binds to
`TIKTIMER_METRICS_WORKER_HOST`, loopback by default: it has no token of its own, so
expose it only where the scraper is (a private network, a container's port).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import start_http_server

from tiktimer.config.metrics import MetricsSettings

log = logging.getLogger("tiktimer.metrics")


class MetricsPortUnavailable(Exception):
    """The worker's metrics port cannot be opened (taken, or a bad address)."""


@contextmanager
def serving_worker_metrics(settings: MetricsSettings) -> Iterator[int | None]:
    """Serve the process's metrics while the block runs; yields the port (None: off)."""
    if not settings.worker_port:
        yield None
        return
    try:
        server, thread = start_http_server(settings.worker_port, addr=settings.worker_host)
    except OSError as exc:
        raise MetricsPortUnavailable(
            f"the metrics port {settings.worker_host}:{settings.worker_port} cannot be opened "
            f"({exc.strerror or exc}); set TIKTIMER_METRICS_WORKER_PORT to a free port, or 0"
        ) from None
    log.info(
        "metrics.worker_port serving http://%s:%d/metrics",
        settings.worker_host,
        settings.worker_port,
    )
    try:
        yield settings.worker_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
