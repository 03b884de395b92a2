"""`GraphApi`: the one httpx client behind `InstagramClient`; every failed call leaves here
as an `InstagramError` that says what to do next (`errors.classify`).

A call with a side effect (creating a container, publishing) that fails without an answer
(network error, timeout, 5xx) is marked `maybe_applied`: the caller reads the container's
status before doing it again (§6).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from tiktimer.kit.instruments import platform_call
from tiktimer.kit.redact import install_http_client_redaction, scrub
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.instagram.errors import GraphFailure, InstagramError, classify

logger = logging.getLogger("tiktimer.platforms.instagram.client")
PLATFORM = "instagram"


class GraphApi:
    def __init__(
        self, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | float
    ) -> None:
        install_http_client_redaction()
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        endpoint: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        token: str | None = None,
        scheme: str = "Bearer",
        headers: Mapping[str, str] | None = None,
        content: AsyncIterator[bytes] | None = None,
        secrets: tuple[str, ...] = (),
        side_effect: bool = False,
    ) -> dict[str, Any]:
        """One request; the JSON body of a 2xx, or an `InstagramError`."""
        sent_headers = dict(headers or {})
        if token:
            sent_headers["Authorization"] = f"{scheme} {token}"
        sent = secrets + ((token,) if token else ())
        started = time.monotonic()
        try:
            response = await self._http.request(
                method, url, params=params, data=form, content=content, headers=sent_headers
            )
        except httpx.HTTPError as exc:
            platform_call(PLATFORM, endpoint, "network", time.monotonic() - started)
            logger.warning(
                "instagram.call.network endpoint=%s error=%s", endpoint, type(exc).__name__
            )
            raise InstagramError(
                ErrorKind.retry,
                "Instagram could not be reached; the step will be tried again.",
                maybe_applied=side_effect,
            ) from None
        body = _json(response)
        ok = response.is_success and isinstance(body, dict) and "error" not in body
        platform_call(PLATFORM, endpoint, "ok" if ok else "error", time.monotonic() - started)
        if ok:
            assert isinstance(body, dict)
            return body
        raise _refused(endpoint, response, body, sent, side_effect=side_effect)


def _refused(
    endpoint: str, response: httpx.Response, body: Any, sent: tuple[str, ...], *, side_effect: bool
) -> InstagramError:
    """The error for a refused call, logged once, with the usage header's wait."""
    failure = _failure(response, body, sent)
    logger.warning(
        "instagram.call.refused endpoint=%s status=%s code=%s subcode=%s message=%s",
        endpoint,
        response.status_code,
        failure.code,
        failure.subcode,
        failure.message,
    )
    applied = side_effect and (response.status_code >= 500 or failure.code is None)
    error = classify(failure, maybe_applied=applied)
    wait = regain_seconds(response.headers.get("x-business-use-case-usage"))
    if wait and error.kind is ErrorKind.retry:
        error.retry_after = max(error.retry_after or 0.0, wait)
    return error


def regain_seconds(header: str | None) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in the BUC usage header."""
    try:
        usage = json.loads(header) if header else {}
    except json.JSONDecodeError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access", 0)
        for entries in (usage.values() if isinstance(usage, dict) else ())
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    longest = max((m for m in minutes if isinstance(m, int | float)), default=0)
    return float(longest) * 60 if longest > 0 else None


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _failure(response: httpx.Response, body: object, secrets: tuple[str, ...]) -> GraphFailure:
    """Read the §10.1 envelope, or the older flat `error_type`/`error_message` shape."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return GraphFailure(
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            message=scrub(str(error.get("message", "")), secrets),
            is_transient=bool(error.get("is_transient", False)),
            http_status=response.status_code,
            trace_id=_text(error.get("fbtrace_id")),
        )
    if isinstance(body, dict) and "error_message" in body:
        return GraphFailure(
            code=100 if response.status_code < 500 else None,
            subcode=None,
            message=scrub(str(body.get("error_message", "")), secrets),
            is_transient=False,
            http_status=response.status_code,
        )
    return GraphFailure(None, None, f"HTTP {response.status_code}", False, response.status_code)


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
