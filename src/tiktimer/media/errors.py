"""Errors of the media API that `tiktimer.errors` has no class for; each carries its status."""

from __future__ import annotations

from tiktimer.errors import TiktimerError


class UnsupportedMediaType(TiktimerError):
    status_code = 415
    default_detail = "Unsupported media type"


class UploadInterrupted(TiktimerError):
    """The client went away mid-body; nobody reads this answer, it only ends the request."""

    status_code = 400
    default_detail = "The upload was interrupted"


class RangeNotSatisfiable(TiktimerError):
    status_code = 416
    default_detail = "Range not satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__()
        self.headers = {"Content-Range": f"bytes */{size}"}


class PreconditionFailed(TiktimerError):
    status_code = 412
    default_detail = "Precondition failed"

    def __init__(self, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.headers = headers


class OffsetConflict(TiktimerError):
    """A resumable chunk that does not start where the upload stands (tus: 409)."""

    status_code = 409

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"Upload-Offset": str(offset)}
