"""`tiktimer doctor`'s body: run the checks once, print them, return the exit code."""

from __future__ import annotations

import asyncio
import json
import os

import typer

from tiktimer.doctor.registry import run_checks
from tiktimer.doctor.report import as_json, exit_code, human_lines


def run(*, as_json_output: bool) -> int:
    results = asyncio.run(run_checks(os.environ))
    if as_json_output:
        typer.echo(json.dumps(as_json(results), indent=2))
    else:
        for line in human_lines(results):
            typer.echo(line)
    return exit_code(results)
