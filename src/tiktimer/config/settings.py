"""`Settings`: one attribute per group, each group read from the environment and `.env`.

A group is its own `BaseSettings`, so it reads its variables by the names its fields
declare: the original TikTimer names, unchanged. `Settings` itself reads nothing; it builds
each group, handing every group the settings-source arguments (`_env_file=None`, ...), and
sends each keyword argument to the group it belongs to: a flat name from before the groups
(`database_url_raw=`), or a variable name (`DATABASE_URL=`), in any case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from tiktimer.config._base import DataDirSettings, GroupSettings
from tiktimer.config.auth import AuthSettings
from tiktimer.config.database import DatabaseSettings
from tiktimer.config.flat import FLAT_NAMES
from tiktimer.config.limits import LimitSettings
from tiktimer.config.media import MediaSettings
from tiktimer.config.metrics import MetricsSettings
from tiktimer.config.planning import PlanningSettings
from tiktimer.config.scheduler import SchedulerSettings
from tiktimer.config.server import ServerSettings
from tiktimer.config.storage import StorageSettings
from tiktimer.config.tiktok import TikTokSettings
from tiktimer.config.youtube import YouTubeSettings


class SettingsError(Exception):
    """A setting is invalid; the message is one readable line naming the variable."""


class Settings(BaseModel):
    """Every setting, by concern; build it with `load_settings` for a one-line error."""

    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    tiktok: TikTokSettings = Field(default_factory=TikTokSettings)
    youtube: YouTubeSettings = Field(default_factory=YouTubeSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    planning: PlanningSettings = Field(default_factory=PlanningSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @model_validator(mode="before")
    @classmethod
    def _build_groups(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return build_groups(data)


def groups() -> dict[str, type[GroupSettings]]:
    """Each group's attribute name on `Settings` and its class."""
    found: dict[str, type[GroupSettings]] = {}
    for name, field in Settings.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, GroupSettings):
            found[name] = field.annotation
    return found


def group_fields() -> Iterator[tuple[str, str, FieldInfo]]:
    """(group, field name, field) of every setting."""
    for group, model in groups().items():
        for name, field in model.model_fields.items():
            yield group, name, field


def variable_names(field: FieldInfo) -> list[str]:
    """The environment variables a field is read from, the first being its documented name."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [alias] if isinstance(alias, str) else []


def _keyword_targets() -> dict[str, list[tuple[str, str]]]:
    """Every keyword `Settings` accepts (lowercase) → the (group, field) it sets."""
    targets: dict[str, list[tuple[str, str]]] = {
        flat: [target] for flat, target in FLAT_NAMES.items()
    }
    for group, name, field in group_fields():
        for variable in variable_names(field):
            found = targets.setdefault(variable.lower(), [])
            if (group, name) not in found:  # SECRET_KEY's flat name is its variable's
                found.append((group, name))
    targets["data_dir"] = [
        (g, "data_dir") for g, m in groups().items() if issubclass(m, DataDirSettings)
    ]
    return targets


def build_groups(data: dict[str, Any]) -> dict[str, Any]:
    """Route keyword arguments to their groups and build every group, gathering all errors."""
    sources = {key: value for key, value in data.items() if key.startswith("_")}
    given: dict[str, Any] = {}
    routed: dict[str, dict[str, Any]] = {group: {} for group in groups()}
    errors: list[InitErrorDetails] = []
    targets = _keyword_targets()
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if key in routed and isinstance(value, GroupSettings | dict):
            given[key] = value  # a group (`storage=` alone is also the flat name of its backend)
        elif key.lower() in targets:
            for group, name in targets[key.lower()]:
                routed[group][name] = value
        else:
            errors.append(_error((key,), value, "is not a setting"))
    built: dict[str, Any] = {}
    for group, model in groups().items():
        try:
            built[group] = _build_one(model, given.get(group), routed[group], sources)
        except ValidationError as exc:
            errors.extend(_error((group, *e["loc"]), e["input"], e) for e in exc.errors())
    if errors:
        raise ValidationError.from_exception_data("Settings", errors)
    return built


def _build_one(
    model: type[GroupSettings], given: Any, routed: dict[str, Any], sources: dict[str, Any]
) -> GroupSettings:
    if isinstance(given, model):
        return given.model_copy(update=routed) if routed else given
    values = {**(given or {}), **routed}
    return model(**sources, **values)


def _error(loc: tuple[Any, ...], value: Any, cause: ErrorDetails | str) -> InitErrorDetails:
    """One error: a group's, its message kept word for word, or one of ours."""
    if not isinstance(cause, str):
        error = PydanticCustomError(cause["type"], cause["msg"])
    else:
        error = PydanticCustomError("value_error", f"Value error, {cause}")
    return {"type": error, "loc": loc, "input": value}


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable line per variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines: list[str] = []
    for error in exc.errors():
        line = f"Invalid setting {_variable(error['loc'])}: " + str(error["msg"]).removeprefix(
            "Value error, "
        )
        if line not in lines:  # TIKTIMER_DATA_DIR is read by several groups
            lines.append(line)
    return "; ".join(lines)


def _variable(loc: tuple[int | str, ...]) -> str:
    """The documented variable name of an error's location (group, field or variable)."""
    if len(loc) < 2:
        return str(loc[0]) if loc else "?"
    group, name = str(loc[0]), str(loc[1])
    model = groups().get(group)
    if model is None:
        return name
    for field_name, field in model.model_fields.items():
        names = variable_names(field)
        if name == field_name or name.lower() in (n.lower() for n in names):
            return names[0] if names else field_name
    return name
