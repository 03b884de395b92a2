"""What a `fake` post does, read from directives in its caption.

    fake:fail=<class>   transient | rate_limited | auth | permanent
    fake:times=<n>      fail only the first n attempts, then publish (default: every attempt)
    fake:latency=<s>    seconds each call takes (default 0)

A caption without directives publishes at once.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from tiktimer.platforms.contract import ErrorKind, PublishError

_DIRECTIVE = re.compile(r"fake:(fail|times|latency)=([\w.]+)")


class FailureClass(enum.StrEnum):
    transient = "transient"  # the platform is down for now: retried with backoff
    rate_limited = "rate_limited"  # the platform said "slow down": retried after its wait
    auth = "auth"  # the grant is gone: the account needs its owner, the post fails
    permanent = "permanent"  # the platform refuses this post: it fails


@dataclass(frozen=True, slots=True)
class Behaviour:
    fail: FailureClass | None = None
    times: int | None = None  # None: every attempt fails
    latency: float = 0.0

    def fails_on(self, attempt: int) -> bool:
        return self.fail is not None and (self.times is None or attempt <= self.times)


def behaviour_of(caption: str) -> Behaviour:
    """The caption's directives; an unknown failure class is a permanent failure."""
    found = dict(_DIRECTIVE.findall(caption))
    fail = found.get("fail")
    return Behaviour(
        fail=_failure_class(fail),
        times=int(found["times"]) if found.get("times", "").isdigit() else None,
        latency=_seconds(found.get("latency")),
    )


def failure(kind: FailureClass) -> PublishError:
    """The `PublishError` a platform of this class would cause."""
    match kind:
        case FailureClass.transient:
            return PublishError(ErrorKind.retry, "The fake platform is down.", code="fake_down")
        case FailureClass.rate_limited:
            return PublishError(
                ErrorKind.retry,
                "The fake platform asks to slow down.",
                code="rate_limit_exceeded",
                retry_after=1.0,
            )
        case FailureClass.auth:
            return PublishError(
                ErrorKind.reauthorize,
                "The fake platform no longer accepts this account; reconnect it.",
                code="fake_auth_revoked",
            )
        case FailureClass.permanent:
            return PublishError(
                ErrorKind.fail, "The fake platform refused the post.", code="fake_refused"
            )


def _failure_class(fail: str | None) -> FailureClass | None:
    if fail is None:
        return None
    try:
        return FailureClass(fail)
    except ValueError:
        return FailureClass.permanent


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
