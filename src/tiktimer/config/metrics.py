"""Metrics (README "Metrics"): who may read `/metrics`, and the workers' own metrics port."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tiktimer.config._base import GroupSettings, env


class MetricsSettings(GroupSettings):
    # Bearer token for GET /metrics; unset: only loopback clients, not through a proxy
    token: SecretStr | None = Field(None, validation_alias=env("TIKTIMER_METRICS_TOKEN"))
    # A `tiktimer worker` serves its own process metrics on this port (0: off)
    worker_port: int = Field(
        0, ge=0, le=65535, validation_alias=env("TIKTIMER_METRICS_WORKER_PORT")
    )
    # ... on this address: loopback unless the scraper is elsewhere on a private network
    worker_host: str = Field("127.0.0.1", validation_alias=env("TIKTIMER_METRICS_WORKER_HOST"))

    @property
    def token_value(self) -> str | None:
        """The token, or None when unset or empty (then only loopback clients are answered)."""
        value = self.token.get_secret_value() if self.token is not None else ""
        return value or None
