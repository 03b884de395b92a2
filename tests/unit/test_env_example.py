"""`.env.example` is a true starting point: it names every setting and changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tiktimer.config import group_fields, load_settings
from tiktimer.config_check import known_names

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
SECOND_NAMES = {"AWS_REGION"}  # AWS's own name, beside TIKTIMER_S3_REGION


def _named() -> set[str]:
    """Every variable the file sets or shows commented out."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))


def test_every_setting_is_in_the_example() -> None:
    assert _named() | SECOND_NAMES == known_names()


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in known_names():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("bare_env")
def test_copying_the_example_to_dotenv_changes_no_default() -> None:
    defaults = load_settings(_env_file=None)
    copied = load_settings(_env_file=EXAMPLE)
    for group, name, _ in group_fields():
        ours, theirs = (
            getattr(getattr(copied, group), name),
            getattr(getattr(defaults, group), name),
        )
        assert ours == theirs, f"{group}.{name}"
