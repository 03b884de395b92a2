"""Every router of the planning package, for the app to include."""

from __future__ import annotations

from tiktimer.planning.feed_routes import router as feed_router
from tiktimer.planning.queue_routes import router as queue_router
from tiktimer.planning.series_routes import router as series_router

ROUTERS = (queue_router, series_router, feed_router)
