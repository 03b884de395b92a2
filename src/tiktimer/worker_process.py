"""The whole life of a `tiktimer worker` process.

Build the services for the worker role (`tiktimer.services`, the same wiring as the API's),
run the dispatcher until SIGTERM/SIGINT, drain (finish or release leases), close everything.
"""

from __future__ import annotations

import asyncio
import signal

from tiktimer.config import Settings
from tiktimer.metrics.worker_port import serving_worker_metrics
from tiktimer.services import build_services

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run_worker(settings: Settings, concurrency: int | None = None) -> None:
    """A dedicated worker process: dispatch until SIGTERM, then shut down gracefully."""
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop_requested.set)
    try:
        await _work(settings, concurrency, stop_requested)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def _work(settings: Settings, concurrency: int | None, stop_requested: asyncio.Event) -> None:
    """Run the services' dispatcher until a signal asks to stop or the dispatcher ends."""
    with serving_worker_metrics(settings.metrics):
        async with build_services(settings, "worker", concurrency=concurrency) as services:
            dispatcher = services.scheduler.in_process
            assert dispatcher is not None  # a worker's scheduler always runs in the process
            await dispatcher.wait(stop_requested)
