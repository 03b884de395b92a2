"""`tiktimer doctor`: is this installation healthy, and if not, what to do about it.

Each check family is one module (`configuration`, `database`, `storage`, `tiktok`,
`workers`, `redis_check`); `registry` runs them in order against one `DoctorContext` and
`report` prints the results for people or, with `--json`, for scripts. A result is ok,
warn or fail, with a one-line problem and a one-line fix; any fail makes the command exit 1.
"""

from tiktimer.doctor.registry import run_checks
from tiktimer.doctor.result import CheckResult, Status

__all__ = ["CheckResult", "Status", "run_checks"]
