"""The one-range subset of HTTP Range requests (RFC 9110 §14) that players and resumers use.

`bytes=a-b`, `bytes=a-` and `bytes=-n` are honoured. A header we do not understand, or one
asking for several ranges, is ignored (the whole content is sent), as the RFC allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


class Unsatisfiable(ValueError):
    """A well-formed range that lies wholly outside the content (416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The requested range clipped to `size`; None to send everything; `Unsatisfiable`."""
    if header is None:
        return None
    match = _SPEC.fullmatch(header)
    if match is None:
        return None  # malformed, another unit, or several ranges
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - suffix, 0), size)
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return None  # "bytes=5-3" is invalid, so the header is ignored
    if start >= size:
        raise Unsatisfiable(header)
    return ByteRange(start, min(end, size))
