"""One check's verdict: what was looked at, how it went, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    ok = "ok"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True)
class CheckResult:
    check: str  # the family, e.g. "database"
    status: Status
    message: str  # one line: what was found
    fix: str = ""  # one line: what to do (empty when ok)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": str(self.status)}


def ok(check: str, message: str) -> CheckResult:
    return CheckResult(check, Status.ok, message)


def warn(check: str, message: str, fix: str) -> CheckResult:
    return CheckResult(check, Status.warn, message, fix)


def fail(check: str, message: str, fix: str) -> CheckResult:
    return CheckResult(check, Status.fail, message, fix)


def short_error(exc: BaseException) -> str:
    """The error's type and first line, never a traceback (and never a URL's password)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).splitlines()[0][:200] if str(original) else ""
    return f"{type(original).__name__}: {text}" if text else type(original).__name__
