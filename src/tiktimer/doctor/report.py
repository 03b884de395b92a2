"""The doctor's output: aligned lines for people, one JSON document for scripts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tiktimer.doctor.result import CheckResult, Status

WIDTH = max(len("configuration"), 8)


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when any check failed; warnings alone leave it 0."""
    return 1 if any(result.status is Status.fail for result in results) else 0


def human_lines(results: Sequence[CheckResult]) -> list[str]:
    lines = []
    for result in results:
        lines.append(f"{result.status:<4}  {result.check:<{WIDTH}}  {result.message}")
        if result.fix:
            lines.append(f"{'':<4}  {'':<{WIDTH}}  fix: {result.fix}")
    counts = Counter(result.status for result in results)
    lines.append(
        f"{counts[Status.ok]} ok, {counts[Status.warn]} warning(s), "
        f"{counts[Status.fail]} failure(s)"
    )
    return lines


def as_json(results: Sequence[CheckResult]) -> dict[str, Any]:
    return {
        "ok": exit_code(results) == 0,
        "checks": [result.as_dict() for result in results],
    }
