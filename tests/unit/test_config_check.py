"""Variables that look like settings but are not one get a warning naming the right one."""

from __future__ import annotations

from pathlib import Path

from tiktimer.config import group_fields, variable_names
from tiktimer.config_check import known_names, misnamed_settings


def test_known_names_come_from_every_settings_field() -> None:
    names = known_names()
    assert {"DATABASE_URL", "SECRET_KEY", "TIKTIMER_PORT", "TIKTOK_CLIENT_KEY"} <= names
    assert "AWS_REGION" in names  # a second alias counts too
    assert len(names) >= len({variable_names(field)[0] for _, _, field in group_fields()})


def test_the_usual_mistakes_are_named(tmp_path: Path) -> None:
    environ = {
        "TIKTIMER_DATABASE_URL": "x",
        "TIKTIMER_SECRET_KEY": "x",
        "tiktimer_prot": "8001",
        "DATABSE_URL": "x",
        "TIKTOK_CLIENT_SECERT": "x",
        "TIKTOK_DAILY_POST_CAP": "3",
        "TIKTIMER_NONSENSE": "1",
    }
    lines = misnamed_settings(environ, env_file=None)
    hints = {line.split()[1]: line.rpartition("did you mean ")[2] for line in lines}
    assert hints == {
        "TIKTIMER_DATABASE_URL": "DATABASE_URL?",
        "TIKTIMER_SECRET_KEY": "SECRET_KEY?",
        "tiktimer_prot": "TIKTIMER_PORT?",
        "DATABSE_URL": "DATABASE_URL?",
        "TIKTOK_CLIENT_SECERT": "TIKTOK_CLIENT_SECRET?",
        "TIKTOK_DAILY_POST_CAP": "TIKTIMER_TIKTOK_DAILY_POST_CAP?",
        "TIKTIMER_NONSENSE": "warning: TIKTIMER_NONSENSE is not a TikTimer setting and is ignored",
    }


def test_real_settings_and_other_programs_variables_are_left_alone() -> None:
    environ = {
        "DATABASE_URL": "x",
        "secret_key": "x",
        "TIKTIMER_PORT": "1",
        "TIKTIMER_TEST_PG_URL": "x",
        "TIKTIMER_TEST_REDIS_URL": "x",
        "PATH": "/bin",
        "HOME": "/root",
        "PORT": "80",
        "HOSTNAME": "h",
        "LANG": "C.UTF-8",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "POSTGRES_PASSWORD": "x",
    }
    assert misnamed_settings(environ, env_file=None) == []


def test_env_file_keys_are_checked_too(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=x\nDATA_DIR=/srv\nTIKTIMER_LOGLEVEL=DEBUG\nCOMPOSE_PROJECT=t\n")
    lines = misnamed_settings({}, env_file=env_file)
    assert lines == [
        f"warning: {env_file}: DATA_DIR is not a TikTimer setting and is ignored; "
        "did you mean TIKTIMER_DATA_DIR?",
        f"warning: {env_file}: TIKTIMER_LOGLEVEL is not a TikTimer setting and is ignored; "
        "did you mean TIKTIMER_LOG_LEVEL?",
    ]
    assert misnamed_settings({}, env_file=tmp_path / "missing.env") == []
