"""The process as an operator meets it: stop signals, bad tokens, unreachable Discord, .env files."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import app
from bot.__main__ import serve
from bot.config import PROJECT_ROOT, Settings

OFFLINE_BOT = textwrap.dedent(
    """
    import asyncio, sys
    from bot.__main__ import serve
    from bot.app import WaypointBot
    from bot.config import Settings

    class OfflineBot(WaypointBot):
        # Everything a real start does locally (migrations, extensions, scheduler), no network.
        async def login(self, token):
            await self.setup_hook()

        async def connect(self, *, reconnect=True):
            print("ready", flush=True)
            while not self.is_closed():  # a real connection ends when close() shuts the socket
                await asyncio.sleep(0.05)

    import discord
    discord.utils.setup_logging()  # as `waypoint run` does
    settings = Settings(database_url=sys.argv[1], sync_commands=False, _env_file=None)
    bot = OfflineBot(settings, clock=discord.utils.utcnow)
    status = asyncio.run(serve(bot, "token"))
    print(f"status={status} scheduler_running={bot.scheduling.running} engine_open={bot._engine is not None}")
    sys.exit(status)
    """
)


def test_sigterm_stops_the_scheduler_closes_the_database_and_exits_zero(tmp_path: Path) -> None:
    script = tmp_path / "offline_bot.py"
    script.write_text(OFFLINE_BOT)
    process = subprocess.Popen(
        [sys.executable, str(script), f"sqlite+aiosqlite:///{tmp_path}/w.db"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "status=0 scheduler_running=False engine_open=False" in out
    assert "received SIGTERM, shutting down" in err
    assert "Traceback" not in err


class FailingBot:
    """Stands in for the bot where only the failure of ``start`` matters."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.closed = False

    async def __aenter__(self) -> FailingBot:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.closed = True

    async def start(self, token: str) -> None:
        raise self.error

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (discord.LoginFailure("Improper token has been passed."), "rejected DISCORD_TOKEN"),
        (OSError("Cannot connect to host discord.com:443"), "could not reach Discord"),
        (TimeoutError(), "could not reach Discord"),
    ],
)
def test_login_and_network_failures_are_one_line(
    error: BaseException, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = FailingBot(error)
    assert asyncio.run(serve(bot, "token")) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert bot.closed


def test_a_blank_token_counts_as_missing(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DISCORD_TOKEN": "   ",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN is not set" in lines[0]


def test_env_files_are_read_from_the_project_and_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_env = tmp_path / "project.env"
    project_env.write_text("DISCORD_TOKEN=from-project\nLOG_LEVEL=debug\n")
    local_env = tmp_path / "local.env"
    local_env.write_text("DISCORD_TOKEN=from-here\n")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    settings = Settings(_env_file=(project_env, local_env))
    assert settings.token() == "from-here"
    assert settings.log_level == "DEBUG"
    assert Settings.model_config["env_file"] == (PROJECT_ROOT / ".env", ".env")


def test_help_says_where_settings_come_from() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert (
        ".env in the current directory" in completed.stdout
        and ".env in the project folder" in completed.stdout
    )


def test_the_image_build_context_leaves_out_history_venvs_secrets_and_state() -> None:
    ignored = {
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env", "state/"} <= ignored
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "exec waypoint run" in dockerfile  # the bot itself receives docker stop's SIGTERM


def test_start_up_objects_are_frozen_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Later bots in the same process (tests, a restart in place) must not freeze their garbage."""
    monkeypatch.setattr(app, "_startup_frozen", False)
    gc.unfreeze()
    try:
        app.freeze_startup_objects()
        frozen = gc.get_freeze_count()
        made_later = [[index] for index in range(1_000)]
        app.freeze_startup_objects()
        assert frozen > 0 and gc.get_freeze_count() == frozen
        assert made_later
    finally:
        gc.unfreeze()
