"""Read the deployment files as their tools would: Dockerfile stages, compose services,
systemd ExecStart lines, shell blocks of docs; and check a `tiktimer …` argv against the CLI."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
import yaml

from tiktimer.cli import app

ROOT = Path(__file__).resolve().parents[2]
TIKTIMER_IMAGE = "${IMAGE:-tiktimer:local}"


#: What `deploy/compose.scale-out.yaml` runs beside the base file's `api`.
SCALE_OUT_SERVICES = frozenset(
    {"postgres", "minio", "minio-bucket", "redis", "migrate", "api", "worker"}
)


def cli_command(argv: list[str]) -> tuple[str, ...]:
    """The sub-command path `argv` runs; fails as the CLI would on a wrong name or option."""
    assert argv, "an empty command"
    assert Path(argv[0]).name == "tiktimer", argv
    # Typer carries its own copy of click: use the commands' own classes, not `click`'s.
    command: Any = typer.main.get_command(app)
    words, path = list(argv[1:]), ["tiktimer"]
    while hasattr(command, "list_commands"):  # a group
        assert words, f"`{' '.join(path)}` needs a sub-command"
        name = words.pop(0)
        sub = command.get_command(command.context_class(command), name)
        assert sub is not None, f"`{' '.join(path)}` has no command {name!r}"
        path.append(name)
        command = sub
    try:
        command.make_context(" ".join(path), words)
    except Exception as exc:  # click's UsageError family, from Typer's copy
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise AssertionError(f"`{shlex.join(argv)}`: {message}") from None
    return tuple(path[1:])


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def dockerfile_stages(path: Path = ROOT / "Dockerfile") -> list[Stage]:
    """The stages of a Dockerfile, each with its instructions (continuations joined)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((instruction, args.strip()))
    return stages


def exec_form(args: str) -> list[str]:
    """A CMD/ENTRYPOINT in exec (JSON) form."""
    value = json.loads(args)
    assert isinstance(value, list), args
    return [str(word) for word in value]


def compose(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def systemd_exec_start(path: Path) -> list[str]:
    [line] = [x for x in path.read_text().splitlines() if x.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def shell_blocks(path: Path) -> list[str]:
    """The ```sh blocks of a Markdown file."""
    return re.findall(r"```(?:sh|bash|console)\n(.*?)```", path.read_text(), flags=re.S)


def tiktimer_invocations(script: str) -> list[list[str]]:
    """Every `tiktimer …` (or `…/bin/tiktimer …`) argv a shell script runs."""
    found = []
    for line in re.sub(r"\\\n", " ", script).splitlines():
        line = line.split(" #", 1)[0]
        for segment in re.split(r"&&|\|\||[|;]", line):
            try:
                words = shlex.split(segment)
            except ValueError:
                continue
            starts = [i for i, w in enumerate(words) if w == "tiktimer" or w.endswith("/tiktimer")]
            if starts and starts[-1] < len(words) - 1:
                argv = words[starts[-1] :]
                cut = next((i for i, w in enumerate(argv) if w.startswith((">", "<"))), None)
                found.append(argv[:cut])
    return found
