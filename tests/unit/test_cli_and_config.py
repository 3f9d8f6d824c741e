"""The `waypoint` command and Settings, as an operator meets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.app import create_bot, discover_extensions
from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]


def test_token_is_secret_in_repr_and_dump() -> None:
    settings = Settings(discord_token="super-secret-token", _env_file=None)  # type: ignore[call-arg]
    assert "super-secret-token" not in repr(settings)
    assert "super-secret-token" not in str(settings.model_dump())
    assert settings.token() == "super-secret-token"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "from-env")
    monkeypatch.setenv("DEV_GUILD_ID", "42")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Berlin")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.token(), settings.dev_guild_id, settings.default_timezone) == (
        "from-env",
        42,
        "Europe/Berlin",
    )


def test_settings_reject_an_unknown_timezone() -> None:
    with pytest.raises(ValueError, match="unknown IANA timezone"):
        Settings(default_timezone="Mars/Olympus", _env_file=None)  # type: ignore[call-arg]


def test_default_database_is_a_sqlite_file_in_the_state_dir() -> None:
    url = Settings(_env_file=None).database_url  # type: ignore[call-arg]
    assert url.startswith("sqlite+aiosqlite:///") and url.endswith("state/waypoint.sqlite3")


def test_no_token_exits_with_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    completed = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "DISCORD_TOKEN" in lines[0] and ".env" in lines[0] and "Traceback" not in completed.stderr
    assert not (tmp_path / "x.db").exists()


def test_content_check_passes_on_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    assert "all roadmaps are valid" in capsys.readouterr().out


def test_content_check_reports_precise_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = (REPO / "data/roadmaps/python-europe.yaml").read_text().replace("key: crud-api", "key: CRUD_api")
    (tmp_path / "python-europe.yaml").write_text(broken)
    assert main(["content", "check", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "python-europe.yaml" in error and "'python-europe'" in error and "phase 1" in error
    # Numbered from 1 like phases, with the key and the line (issue: content check numbering).
    assert "line 29" in error and "checkpoint 2 'CRUD_api', key:" in error


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "state" / "w.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert main(["db", "upgrade"]) == 0
    assert database.exists()


def test_create_bot_touches_nothing_before_setup_hook(tmp_path: Path) -> None:
    database = tmp_path / "never.sqlite3"
    bot = create_bot(
        Settings(discord_token="x", database_url=f"sqlite+aiosqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    )
    assert not database.exists()
    assert not bot.scheduling.running
    with pytest.raises(RuntimeError):
        _ = bot.services


def test_every_cog_module_is_an_extension() -> None:
    extensions = discover_extensions()
    assert {"cogs.roadmap", "cogs.cohort", "cogs.checkpoint", "cogs.progress", "cogs.config"} <= set(
        extensions
    )
    assert not any(name.split(".")[-1].startswith("_") for name in extensions)


def test_content_check_accepts_a_single_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = REPO / "data/roadmaps/nodejs-path.yaml"
    assert main(["content", "check", str(shipped)]) == 0
    broken = tmp_path / "nodejs-path.yaml"
    broken.write_text(shipped.read_text().replace("duration_days: 21", "duration_days: -21", 1))
    assert main(["content", "check", str(broken)]) == 1
    error = capsys.readouterr().err
    assert "nodejs-path.yaml" in error and "phase 1 'javascript-basics'" in error and "duration_days" in error
