"""The ``waypoint`` command: run the bot, check content, migrate or copy the database, demo, export.

This is the composition root for the process: it reads Settings once and passes them down.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.config import Settings

log = logging.getLogger("bot")

TOKEN_HELP = (
    "DISCORD_TOKEN is not set: put it in the environment or in a .env file "
    "(create a bot and copy its token at https://discord.com/developers/applications)."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waypoint",
        description="Waypoint study-group bot.",
        epilog=(
            "Settings (DISCORD_TOKEN, DATABASE_URL, ...) come from the environment, then from .env in the"
            " current directory, then from .env in the project folder."
        ),
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    content = commands.add_parser("content", help="roadmap content tools")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate roadmap files")
    check.add_argument(
        "path", nargs="?", type=Path, help="a roadmap file or folder (default: the content dir)"
    )
    database = commands.add_parser("db", help="database tools")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply pending migrations")
    copy = database_commands.add_parser(
        "copy", help="copy every row into a new, empty database (e.g. from SQLite to PostgreSQL)"
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="the database to read")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="the empty database to fill")
    commands.add_parser("demo", help="watch a scripted session against a simulated Discord (no token)")
    export = commands.add_parser("export", help="export a server's data like /export does")
    export.add_argument("--guild", type=int, required=True, help="the server (guild) id")
    export.add_argument("--cohort", help="only this cohort (default: every cohort)")
    export.add_argument("--kind", choices=("progress", "checkpoints", "reviews"), default="progress")
    export.add_argument("--format", dest="fmt", choices=("csv", "json", "xlsx"), default="csv")
    export.add_argument("--output", type=Path, required=True, help="file to write")
    return parser


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']).upper()}: {item['msg']}" for item in error.errors()
        )
        raise SystemExit(f"waypoint: invalid settings: {problems}") from None


def _content_check(settings: Settings, path: Path | None) -> int:
    from bot.content import ContentError, check_content, load_roadmap_file

    target = path or settings.content_dir
    if target.is_file():
        try:
            load_roadmap_file(target)
            errors: list[str] = []
        except ContentError as invalid:
            errors = list(invalid.problems)
    else:
        errors = check_content(target)
    for problem in errors:
        print(problem, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problem(s) in {target}", file=sys.stderr)
        return 1
    print(f"{target}: {'the roadmap is' if target.is_file() else 'all roadmaps are'} valid")
    return 0


async def _db_upgrade(settings: Settings) -> None:
    from bot.db.engine import create_engine, upgrade_database

    engine = create_engine(settings.database_url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


async def run_copy(source: str, target: str) -> int:
    """``waypoint db copy``: one line per table with its verified row count, or one line on failure."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db.copy import CopyError, copy_database, shown

    try:
        copied = await copy_database(source, target)
    except (CopyError, SQLAlchemyError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if not isinstance(error, CopyError):
            reason = f"{type(error).__name__}: {reason}"
        print(f"waypoint: db copy failed: {reason}", file=sys.stderr)
        return 1
    for table in copied:
        print(f"{table.name}: {table.rows} rows")
    total = sum(table.rows for table in copied)
    print(f"copied {total} rows in {len(copied)} tables to {shown(target)}; row counts verified")
    return 0


async def run_export(
    settings: Settings, guild_id: int, cohort: str | None, kind: str, fmt: str, output: Path
) -> int:
    """``waypoint export``: compose the services over the database, then write the export."""
    from bot.clock import system_clock
    from bot.container import build_services
    from bot.content import load_catalog
    from bot.db.engine import create_engine, schema_is_current
    from bot.exports.cli import EXIT_FAILED, export_to_file

    engine = create_engine(settings.database_url)
    try:
        if not await schema_is_current(engine):
            print(
                "waypoint: the database is not up to date; run `waypoint db upgrade` first.", file=sys.stderr
            )
            return EXIT_FAILED
        services = build_services(settings, engine, load_catalog(settings.content_dir), system_clock)
        await services.roadmaps.load()  # a cohort may follow one of its server's own roadmaps
        return await export_to_file(services.exports, guild_id, cohort, kind, fmt, output)
    finally:
        await engine.dispose()


def _run(settings: Settings) -> int:
    import discord

    from bot.app import create_bot
    from bot.content import ContentError, load_catalog

    token = settings.token()
    if not token:
        print(TOKEN_HELP, file=sys.stderr)
        return 2
    try:
        load_catalog(settings.content_dir)  # fail before connecting, with the precise error
    except ContentError as error:
        print(f"waypoint: roadmap content is invalid:\n{error}", file=sys.stderr)
        return 1
    discord.utils.setup_logging(level=logging.getLevelName(settings.log_level))
    return asyncio.run(serve(create_bot(settings), token))


LOGIN_PROBLEMS = {
    "LoginFailure": "Discord rejected DISCORD_TOKEN; copy a fresh token from the Developer Portal.",
    "PrivilegedIntentsRequired": (
        "enable the Server Members intent for the bot in the Developer Portal (Bot page)."
    ),
}


async def serve(bot: Any, token: str) -> int:
    """Run until Discord disconnects us or SIGTERM/SIGINT asks us to stop, then shut down cleanly.

    ``docker stop`` sends SIGTERM: the bot closes (scheduler stopped, database closed) and the
    process exits 0. Login and network failures end with one clear line and a non-zero status.
    """
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def stop(name: str) -> None:
        if not closing:
            log.info("received %s, shutting down", name)
            closing.append(loop.create_task(bot.close()))

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signal_number, stop, signal_number.name)
    try:
        async with bot:
            await bot.start(token)
    except Exception as error:
        problem = LOGIN_PROBLEMS.get(type(error).__name__)
        if problem is None and not isinstance(error, OSError | TimeoutError):
            raise
        detail = problem or f"could not reach Discord ({type(error).__name__}: {error})."
        print(f"waypoint: {detail}", file=sys.stderr)
        return 2
    finally:
        # The signal's close may still be finishing (scheduler, engine): let it, before the loop ends.
        await asyncio.gather(*closing, return_exceptions=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    settings = _load_settings()
    if arguments.command == "content":
        return _content_check(settings, arguments.path)
    if arguments.command == "db" and arguments.db_command == "copy":
        copy_status: int = asyncio.run(run_copy(arguments.source, arguments.target))
        return copy_status
    if arguments.command == "db":
        asyncio.run(_db_upgrade(settings))
        print("database is up to date")
        return 0
    if arguments.command == "demo":
        from bot.demo import run_demo

        demo_status: int = asyncio.run(run_demo())
        return demo_status
    if arguments.command == "export":
        export_status: int = asyncio.run(
            run_export(
                settings, arguments.guild, arguments.cohort, arguments.kind, arguments.fmt, arguments.output
            )
        )
        return export_status
    return _run(settings)


if __name__ == "__main__":
    sys.exit(main())
