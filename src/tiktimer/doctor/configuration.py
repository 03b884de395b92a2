"""Configuration: the settings load, and no variable that looks like one is being ignored."""

from __future__ import annotations

from tiktimer.config import SettingsError, load_settings
from tiktimer.config_check import misnamed_variables
from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.result import CheckResult, fail, ok, warn

CHECK = "configuration"


async def check_configuration(ctx: DoctorContext) -> list[CheckResult]:
    try:
        ctx.settings = load_settings()
    except SettingsError as exc:
        return [
            fail(
                CHECK,
                str(exc).splitlines()[0],
                'correct the variable named above (README "Configuration" lists every one)',
            )
        ]
    results = [ok(CHECK, "settings load")]
    for item in misnamed_variables(ctx.environ, ctx.env_file):
        fix = f"rename it to {item.suggestion}" if item.suggestion else "remove it"
        results.append(warn(CHECK, item.problem, fix))
    return results
