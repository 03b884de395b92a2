"""Warnings for variables that look like TikTimer settings but are not one.

A misspelt or misprefixed variable is otherwise silently ignored (`TIKTIMER_DATABASE_URL`
while the setting is `DATABASE_URL`), and the service starts on the defaults. The known names
are the variable names of every settings group's fields, so a new setting is known the moment
it exists.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tiktimer.config import group_fields, variable_names

PREFIX = "TIKTIMER_"
# Read by the test suite and tools, not by Settings (as is every TIKTIMER_TEST_*).
NOT_SETTINGS = frozenset({"TIKTIMER_ENV"})
TEST_PREFIX = "TIKTIMER_TEST_"
CLOSE_ENOUGH = 0.85


def known_names() -> frozenset[str]:
    return frozenset(
        name.upper() for _, _, field in group_fields() for name in variable_names(field)
    )


@dataclass(frozen=True)
class Misnamed:
    """A variable that looks like a setting but is not one."""

    name: str
    source: str  # "" for the environment, else the env file's name
    suggestion: str  # the setting it probably means, or "" when none is close

    @property
    def problem(self) -> str:
        where = f"{self.source}: " if self.source else ""
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"{where}{self.name} is not a TikTimer setting and is ignored{hint}"


def misnamed_variables(
    environ: Mapping[str, str], env_file: Path | None = Path(".env")
) -> list[Misnamed]:
    """Each variable (environment, then `.env`) that is not a setting but looks like one."""
    known = known_names()
    found = [
        Misnamed(name, "", suggestion)
        for name in sorted(environ)
        if (suggestion := _suggest(name.upper(), known, from_env_file=False)) is not None
    ]
    for name in sorted(_env_file_keys(env_file)):
        suggestion = _suggest(name.upper(), known, from_env_file=True)
        if suggestion is not None:
            found.append(Misnamed(name, str(env_file), suggestion))
    return found


def misnamed_settings(
    environ: Mapping[str, str], env_file: Path | None = Path(".env")
) -> list[str]:
    """One warning line per variable (environment or `.env`) that looks like a setting."""
    return [f"warning: {item.problem}" for item in misnamed_variables(environ, env_file)]


def _suggest(name: str, known: frozenset[str], *, from_env_file: bool) -> str | None:
    """None: nothing to say; "": not a setting, no better name; else the right name."""
    if name in known or name in NOT_SETTINGS or name.startswith(TEST_PREFIX):
        return None
    ours = name.startswith((PREFIX, "TIKTOK_"))
    if name.startswith(PREFIX) and name.removeprefix(PREFIX) in known:
        return name.removeprefix(PREFIX)  # TIKTIMER_DATABASE_URL -> DATABASE_URL
    if (ours or from_env_file) and PREFIX + name in known:
        return PREFIX + name  # TIKTOK_DAILY_POST_CAP -> TIKTIMER_TIKTOK_DAILY_POST_CAP
    close = difflib.get_close_matches(name, known, n=1, cutoff=CLOSE_ENOUGH)
    if close:
        return close[0]
    return "" if ours else None


def _env_file_keys(env_file: Path | None) -> Iterable[str]:
    if env_file is None or not env_file.is_file():
        return ()
    from dotenv import dotenv_values

    return [key for key in dotenv_values(env_file) if key]
