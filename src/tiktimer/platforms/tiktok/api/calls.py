"""`TikTokApi`: the one httpx client every part of `TikTokClient` shares.

Requests in flight are capped per kind (a lane each: ``api``, ``status``, ``upload``), and
every failed call leaves here as the typed error that says what to do next, with any
secret we sent scrubbed from TikTok's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from tiktimer.kit.aiohttp_transport import AiohttpTransport
from tiktimer.kit.instruments import platform_call
from tiktimer.kit.redact import install_http_client_redaction
from tiktimer.platforms.tiktok.api.redaction import redact, secret
from tiktimer.platforms.tiktok.api.responses import (
    envelope_data,
    find_error,
    json_body,
    log_id_of,
    network_error,
    retry_after,
)
from tiktimer.platforms.tiktok.errors import error_for_code

# The client's parts log under the one name operators already filter on.
logger = logging.getLogger("tiktimer.platforms.tiktok.client")


class TikTokApi:
    """Sends requests to TikTok through lanes of a pool sized to hold them all."""

    def __init__(
        self,
        api_base: str,
        http_client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
        timeout: httpx.Timeout | float,
        lanes: Mapping[str, int],
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self._owns_http = http_client is None
        pool = sum(lanes.values())
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        self._http = http_client or httpx.AsyncClient(
            # The network goes through aiohttp (a seventh of httpcore's CPU per request);
            # the sandbox and tests pass their own transport (the emulator in-process).
            transport=transport or AiohttpTransport(limits=limits),
            timeout=timeout,
            limits=limits,
        )
        self._lanes = {kind: asyncio.Semaphore(size) for kind, size in lanes.items()}
        self._timeout = timeout
        install_http_client_redaction()

    async def aclose(self) -> None:
        """Close the ``httpx.AsyncClient`` if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def send(
        self,
        method: str,
        url: str,
        *,
        lane: str,
        request_timeout: httpx.Timeout | float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One raw request in ``lane``; transport errors propagate untouched."""
        async with self._lanes[lane]:
            return await self._http.request(
                method,
                url,
                timeout=self._timeout if request_timeout is None else request_timeout,
                **kwargs,
            )

    async def request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        idempotent: bool,
        secret_values: Sequence[str],
        lane: str = "api",
        **kwargs: Any,
    ) -> tuple[httpx.Response, Any]:
        """Send, and raise the typed error for any failure; returns the parsed body."""
        started = time.perf_counter()
        try:
            response = await self.send(method, url, lane=lane, **kwargs)
        except httpx.RequestError as exc:
            platform_call("tiktok", endpoint, "network", time.perf_counter() - started)
            failure = network_error(exc, endpoint, idempotent=idempotent)
            logger.warning(
                "tiktok.request.network_error endpoint=%s error=%s", endpoint, failure.code
            )
            raise failure from exc
        body = json_body(response)
        found = find_error(body)
        if found is None and response.is_success:
            platform_call("tiktok", endpoint, "ok", time.perf_counter() - started)
            return response, body
        code, message = found if found else (None, None)
        error = error_for_code(
            code,
            redact(message, secret_values),
            http_status=response.status_code,
            log_id=log_id_of(body, response),
            retry_after=retry_after(response),
            maybe_applied=not idempotent,
        )
        platform_call("tiktok", endpoint, str(error.action), time.perf_counter() - started)
        logger.warning(
            "tiktok.request.failed endpoint=%s status=%d code=%s action=%s log_id=%s",
            endpoint,
            response.status_code,
            error.code,
            error.action,
            error.log_id,
        )
        raise error

    async def post_json(
        self,
        access_token: str | SecretStr,
        path: str,
        payload: Mapping[str, Any],
        endpoint: str,
        idempotent: bool,
        lane: str = "api",
    ) -> tuple[dict[str, Any], str | None]:
        """POST a JSON body with the user's token; returns the envelope's ``data``."""
        token = secret(access_token)
        if not token:
            raise ValueError("access_token is required")
        response, body = await self.request(
            "POST",
            f"{self.api_base}{path}",
            endpoint=endpoint,
            idempotent=idempotent,
            secret_values=(token,),
            lane=lane,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=UTF-8",
            },
            content=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
        )
        return envelope_data(body, response, endpoint)
