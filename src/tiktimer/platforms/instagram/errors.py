"""Meta's errors as the contract's `PublishError`, classified by (code, subcode) (§10).

retry        network, 5xx, transient codes, rate limits (4/17/32/613), not ready yet
             (9007/2207027), the daily publishing cap (9/2207042, a deferral)
refresh      190 without a subcode, or 467 (invalid): the token may have been replaced
reauthorize  190 with 458/459/460/463/464 (expired tokens cannot be revived), 10/200
             (a permission missing), 25/2207050 (the account is restricted)
reinitialize the container is dead: expired (24/2207008, -2/2207020), missing
             (24/2207006), failed to create or upload (-1/2207032, -1/2207053)
fail         everything else: bad parameters (100), unsupported media (352), spam
             (4/2207051), a caption too long (36004)…
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tiktimer.platforms.contract import ErrorKind, PublishError

PUBLISH_CAP = (9, 2207042)
NOT_READY = (9007, 2207027)
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({-2, -1, 1, 2})
RATE_LIMIT_WAIT = 300.0
PUBLISH_CAP_WAIT = 3600.0  # a moving 24 h window: no reset time is given (§7.1)
_REAUTHORIZE_190 = frozenset({458, 459, 460, 463, 464})
_REINITIALIZE = frozenset({2207006, 2207008, 2207020, 2207032, 2207053})
_FAIL_TRANSIENT = frozenset({2207051, 2207001})  # spam flags are not retryable (§12)
_CONTAINER_ERROR = re.compile(r"error code (\d+)")

_MESSAGES = {
    2207003: "Instagram took too long to download the video; it will be tried again.",
    2207010: "The caption is longer than Instagram's 2,200 characters.",
    2207026: "Instagram does not support this video's format (MP4 or MOV, H.264 or HEVC).",
    2207027: "Instagram is still processing the video.",
    2207040: "The caption mentions more than 20 accounts.",
    2207050: "The Instagram account is restricted or inactive: open the Instagram app.",
    2207051: "Instagram restricted this action as suspected spam.",
    2207052: "Instagram could not fetch the video from its URL.",
    2207057: "The cover frame offset is outside the video.",
    2207077: "Instagram could not download the video.",
    2207082: "Instagram could not process the video (for example audio on a silent video).",
    2207085: "Instagram could not process the video: check its format, duration and resolution.",
}


class InstagramError(PublishError):
    """A `PublishError` that keeps Meta's (code, subcode) for logs and decisions."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        graph_code: int | None = None,
        subcode: int | None = None,
        retry_after: float | None = None,
        maybe_applied: bool = False,
        log_id: str | None = None,
    ) -> None:
        code = (
            f"{graph_code}/{subcode}"
            if subcode is not None
            else (str(graph_code) if graph_code is not None else None)
        )
        super().__init__(
            kind,
            message,
            code=code,
            retry_after=retry_after,
            log_id=log_id,
            maybe_applied=maybe_applied,
        )
        self.graph_code = graph_code
        self.subcode = subcode


@dataclass(frozen=True)
class GraphFailure:
    """One error envelope, as read (§10.1)."""

    code: int | None
    subcode: int | None
    message: str
    is_transient: bool
    http_status: int
    trace_id: str | None = None


def classify(failure: GraphFailure, *, maybe_applied: bool = False) -> InstagramError:
    code, subcode = failure.code, failure.subcode
    kind, wait = _kind(failure)
    if (code, subcode) == PUBLISH_CAP:
        message = "Instagram's daily publishing limit for this account is reached."
    else:
        known = _MESSAGES.get(subcode) if subcode is not None else None
        message = known or f"Instagram refused the request: {failure.message}"
    return InstagramError(
        kind,
        message,
        graph_code=code,
        subcode=subcode,
        retry_after=wait,
        maybe_applied=maybe_applied,
        log_id=failure.trace_id,
    )


def _kind(failure: GraphFailure) -> tuple[ErrorKind, float | None]:
    code, subcode = failure.code, failure.subcode
    if (code, subcode) == PUBLISH_CAP:
        return ErrorKind.retry, PUBLISH_CAP_WAIT
    if subcode in _REINITIALIZE:
        return ErrorKind.reinitialize, None
    if subcode in _FAIL_TRANSIENT or subcode == 2207057:
        return ErrorKind.fail, None
    if code == 190:
        return (ErrorKind.reauthorize if subcode in _REAUTHORIZE_190 else ErrorKind.refresh), None
    if code in (10, 200) or (code, subcode) == (25, 2207050):
        return ErrorKind.reauthorize, None
    if code in RATE_LIMIT_CODES or code == 9:
        return ErrorKind.retry, RATE_LIMIT_WAIT
    if (code, subcode) == NOT_READY or code in TRANSIENT_CODES or failure.is_transient:
        return ErrorKind.retry, None
    if code is None and failure.http_status >= 500:
        return ErrorKind.retry, None
    return ErrorKind.fail, None


def container_failure(status_text: str | None) -> InstagramError:
    """A container in ERROR: its `status` text names a subcode (§5, postiz PRs)."""
    match = _CONTAINER_ERROR.search(status_text or "")
    subcode = int(match.group(1)) if match else None
    retryable = subcode in (2207077, 2207053, 2207003)  # a download failed: a new container
    kind = ErrorKind.reinitialize if retryable else ErrorKind.fail
    message = _MESSAGES.get(subcode or 0) or "Instagram could not process the video."
    return InstagramError(kind, message, subcode=subcode)


def publish_cap_reached(usage: int, total: int, window_seconds: int) -> InstagramError:
    hours = max(window_seconds // 3600, 1)
    return InstagramError(
        ErrorKind.retry,
        f"Instagram's publishing limit is reached: {usage} of {total} posts in {hours} hours "
        "for this account. The post waits and is tried again in an hour.",
        graph_code=PUBLISH_CAP[0],
        subcode=PUBLISH_CAP[1],
        retry_after=PUBLISH_CAP_WAIT,
    )
