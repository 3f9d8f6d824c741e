"""Shared fixtures: settings over a migrated database, and the real bot for SimCord.

Both databases: every test in tests/db and tests/behaviour that uses the database runs twice, as
``[sqlite]`` and ``[postgresql]`` (see tests/postgres.py for how a server is found; ``-m postgres``
or ``-m "not postgres"`` picks one half). A test that checks something only SQLite has (its file,
its pragmas) says so with ``@pytest.mark.sqlite_only``.

Speed: the schema is migrated once per session (per xdist worker): into a template file that each
SQLite test gets a copy of, and into one PostgreSQL database that is emptied before each test. The
roadmap catalog is parsed once per session. Both are what the tests would otherwise rebuild, byte
for byte, for every test. Likewise for every bot a test builds: the extension list is found once,
each extension module is executed once per process (discord.py would re-execute it per bot) and any
module's source is compiled once per process. Under xdist the long tests (Hypothesis properties and
tests marked ``slow``) start first.

Real time: nothing under SimCord should wait on the wall clock. Its settle looks again after 1 ms
rather than 50 ms, and each bot paces its posts by its own (virtual) clock: see
``_settle_without_dozing`` and ``pace_on_the_bots_clock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.abc
import importlib.machinery
import importlib.util
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import pytest
import pytest_asyncio
import simcord
import simcord.gateway
import simcord.http.router
import simcord.results
from discord.ext import commands
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from bot import app as bot_app
from bot.app import WaypointBot, create_bot
from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.content import RoadmapCatalog, load_catalog
from bot.db import engine as bot_engine
from bot.db.engine import create_engine, upgrade_database
from bot.pacing import PostPacer
from tests import postgres
from tests.compiled_sql import share_compiled_sql
from tests.payload_copy import COPY_MODULE, copy_payload
from tests.schema import upgrade_unless_current

BOTH_DATABASES = (Path(__file__).parent / "db", Path(__file__).parent / "behaviour")

# --- compiled modules, once per process ---------------------------------------------------------
# discord.py's ``load_extension`` executes an extension's module afresh, and ``unload_extension`` (at
# ``bot.close()``) drops it from ``sys.modules``: every bot a test builds imports every ``cogs`` module
# again. With bytecode caching on, that reads ``__pycache__``; with PYTHONDONTWRITEBYTECODE set (as on
# many dev containers and CI images) it compiles each module from source, every time: a fifth of a
# behaviour test's CPU time. Compiled code objects are immutable, so each source text is compiled once
# per process and reused (keyed by path and content, so an edited file is still recompiled).
_COMPILED: dict[tuple[str, bytes], CodeType] = {}
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code


def _source_to_code_once(self: Any, data: Any, path: Any, *, _optimize: int = -1) -> CodeType:
    if not isinstance(data, bytes) or _optimize != -1:
        return _source_to_code(self, data, path, _optimize=_optimize)
    key = (str(path), data)
    code = _COMPILED.get(key)
    if code is None:
        code = _COMPILED[key] = _source_to_code(self, data, path)
    return code


importlib.machinery.SourceFileLoader.source_to_code = _source_to_code_once  # type: ignore[method-assign]

# --- garbage collection -----------------------------------------------------------------------
# Every test builds a bot, its engines and a SimCord world, and drops them: a large cyclic garbage that
# lives long enough to reach the oldest generation, so with CPython's default thresholds a full
# collection ran every few tests, each walking every long-lived object of the process (modules,
# pytest's items, Hypothesis, the compiled-SQL cache as it fills up): some 200 ms each, late in a
# worker's run. Here a full collection waits for ten times as many younger ones (garbage is still
# collected, in larger batches: some 15 MB more per process at its peak), and what outlives a full
# collection between two tests is set aside, as the bot's first start does with its own start-up
# objects (``bot.app.freeze_startup_objects``): later collections walk only what came since.
GC_THRESHOLDS = (700, 10, 100)  # CPython's defaults are (700, 10, 10)
TESTS_PER_FREEZE = 50
gc.set_threshold(*GC_THRESHOLDS)


class _Freezing:
    """Counts the tests this process ran since it last set its long-lived objects aside."""

    runs_tests = False  # the xdist controller collects nothing and runs nothing: it never freezes
    since = 0


def _collect_and_freeze() -> None:
    """Between two tests (their fixtures gone), what a full collection leaves is the process's own:
    caches, session fixtures, pytest's items. Should one of them later become cyclic garbage (an entry
    evicted from a full cache) it is not collected: bounded, and only for the test session."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    _Freezing.runs_tests = True
    _collect_and_freeze()


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if not _Freezing.runs_tests:
        return
    _Freezing.since += 1
    if _Freezing.since >= TESTS_PER_FREEZE:
        _Freezing.since = 0
        _collect_and_freeze()


# --- hypothesis profiles ------------------------------------------------------------------------
# Registered here, before any test module is imported, so that every @settings(...) in a test module
# inherits the active profile for whatever it does not set itself (explicit max_examples stay as
# written). "dev" (local default) keeps Hypothesis' example counts and only relaxes the per-example
# deadline, which is noise on a busy laptop or under xdist; "ci" (chosen when $CI is set) runs more
# examples for the properties that do not fix their own count and has no deadline, so a slow shared
# runner cannot fail a test by timing alone. HYPOTHESIS_PROFILE overrides the choice.
hypothesis_settings.register_profile("dev", deadline=timedelta(seconds=1))
hypothesis_settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


# --- compiled SQL, once per process ---------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _engines_share_compiled_sql() -> Iterator[None]:
    """Every engine ``bot.db.engine.create_engine`` builds shares its backend's compiled-SQL cache
    (see tests/compiled_sql.py): a statement is compiled once per process, as in one bot process."""
    build = bot_engine.create_async_engine

    def create_async_engine(url: Any, **options: Any) -> Any:
        return share_compiled_sql(build(url, **options))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot_engine, "create_async_engine", create_async_engine)
        yield


# --- SimCord's payload copies ---------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _simcord_copies_payloads_directly() -> Iterator[None]:
    """SimCord copies each gateway event, request and read-back message with ``copy.deepcopy``; the
    same copies, made by ``tests.payload_copy.copy_payload`` (same result, a third of the time)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simcord.gateway, "copy", COPY_MODULE)
        patch.setattr(simcord.http.router, "copy", COPY_MODULE)
        patch.setattr(simcord.results, "deepcopy", copy_payload)
        yield


# --- migrated database template -----------------------------------------------------------------


def _migrate(path: Path) -> None:
    """Run the real migrations (``upgrade heads``) into ``path``, on a loop of its own.

    A separate thread keeps this loop apart from pytest-asyncio's loops entirely.
    """

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()  # the last connection closing checkpoints the WAL into the file

    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, migrate()).result()


@pytest.fixture(scope="session")
def migrated_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the current heads, built once per session (per xdist worker)."""
    path = tmp_path_factory.mktemp("template") / "waypoint.sqlite3"
    _migrate(path)
    leftovers = [side for side in (Path(f"{path}-wal"), Path(f"{path}-shm")) if side.exists()]
    assert not leftovers, f"the template must be one self-contained file, found {leftovers}"
    return path


@pytest.fixture
def database_path(tmp_path: Path, migrated_database_template: Path) -> Path:
    """A private copy of the migrated template; the bot's own ``upgrade_database`` finds nothing to do."""
    path = tmp_path / "waypoint.sqlite3"
    shutil.copyfile(migrated_database_template, path)
    return path


# --- both databases -----------------------------------------------------------------------------


_SERVER = pytest.StashKey[str | None]()  # the PostgreSQL server's admin URL, or None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: the test runs against the PostgreSQL server")
    config.addinivalue_line("markers", "sqlite_only: checks something only SQLite has; not run on PostgreSQL")
    config.addinivalue_line(
        "markers", "slow: takes seconds (a scale or concurrency check); started first under xdist"
    )
    config.stash[_SERVER] = postgres.server_url()
    if config.stash[_SERVER] is None and os.environ.get("CI"):
        raise pytest.UsageError(postgres.MISSING_IN_CI)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the persistence and behaviour tests that use the database once per database."""
    if "database_backend" not in metafunc.fixturenames:
        return
    if not any(metafunc.definition.path.is_relative_to(folder) for folder in BOTH_DATABASES):
        return
    backends = [pytest.param("sqlite", id="sqlite")]
    if metafunc.definition.get_closest_marker("sqlite_only") is None:
        skip = [] if metafunc.config.stash[_SERVER] else [pytest.mark.skip(reason=postgres.HOW_TO_ENABLE)]
        backends.append(pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgres, *skip]))
    metafunc.parametrize("database_backend", backends, indirect=True)


def pytest_report_header(config: pytest.Config) -> str:
    server = config.stash[_SERVER]
    if server is None:
        return postgres.HOW_TO_ENABLE
    return f"PostgreSQL half: {make_url(server).render_as_string()} (a fresh database per worker)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if config.stash[_SERVER] is None:
        terminalreporter.write_line(postgres.HOW_TO_ENABLE, yellow=True)


@pytest.fixture
def database_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``; tests outside tests/db and tests/behaviour get SQLite."""
    backend: str = getattr(request, "param", "sqlite")
    return backend


@pytest.fixture(scope="session")
def postgres_database(request: pytest.FixtureRequest) -> Iterator[postgres.TestDatabase]:
    """This process's PostgreSQL database, migrated once, dropped at the end of the session."""
    server = request.config.stash[_SERVER]
    assert server is not None, postgres.HOW_TO_ENABLE
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    database = postgres.TestDatabase(server, worker)
    database.create()
    yield database
    database.drop()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """For the tests that need PostgreSQL whatever their parameter: the emptied, migrated database."""
    if request.config.stash[_SERVER] is None:
        pytest.skip(postgres.HOW_TO_ENABLE)
    database: postgres.TestDatabase = request.getfixturevalue("postgres_database")
    database.reset()
    return database.async_url


@pytest.fixture(scope="session")
def _fresh_postgres_database(request: pytest.FixtureRequest) -> Iterator[postgres.TestDatabase]:
    """This process's never-migrated PostgreSQL database, dropped at the end of the session."""
    server = request.config.stash[_SERVER]
    assert server is not None, postgres.HOW_TO_ENABLE
    database = postgres.TestDatabase(server, os.environ.get("PYTEST_XDIST_WORKER", "main") + "_fresh")
    database.create(migrate=False)
    yield database
    database.drop()


@pytest.fixture
def fresh_postgres_url(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL database as on a fresh install: never migrated, nothing in it.

    One per process, emptied before each test that asks for it (see ``TestDatabase.empty``).
    """
    if request.config.stash[_SERVER] is None:
        pytest.skip(postgres.HOW_TO_ENABLE)
    database: postgres.TestDatabase = request.getfixturevalue("_fresh_postgres_database")
    database.empty()
    return database.async_url


@pytest.fixture
def database_url(database_backend: str, request: pytest.FixtureRequest) -> str:
    """The test's own empty, migrated database: a SQLite file, or the emptied PostgreSQL database."""
    if database_backend == "postgresql":
        database: postgres.TestDatabase = request.getfixturevalue("postgres_database")
        database.reset()
        return database.async_url
    return f"sqlite+aiosqlite:///{request.getfixturevalue('database_path')}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        discord_token="test-token",
        database_url=database_url,
        _env_file=None,  # a developer's .env must not leak into tests
    )


# --- roadmap catalog ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def default_catalog() -> RoadmapCatalog:
    """The shipped roadmaps, parsed once; the catalog and its models are immutable, so sharing is safe."""
    return load_catalog(DEFAULT_CONTENT_DIR)


def catalog_for(directory: Path, default_catalog: RoadmapCatalog) -> RoadmapCatalog:
    """``load_catalog(directory)``, reusing the session's parse for the shipped content folder."""
    if Path(directory).resolve() == DEFAULT_CONTENT_DIR.resolve():
        return default_catalog
    return load_catalog(directory)


@pytest.fixture
def catalog_loader(default_catalog: RoadmapCatalog) -> Callable[[Path], RoadmapCatalog]:
    return lambda directory: catalog_for(directory, default_catalog)


# --- the bot ------------------------------------------------------------------------------------


class _Executed(importlib.abc.Loader):
    """A loader whose module is already executed: ``module_from_spec`` gets it back as it is."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        pass


# Each extension module as the first bot of this process executed it, with its package's submodules.
_EXTENSIONS: dict[str, tuple[ModuleType, dict[str, ModuleType]]] = {}
_load_from_module_spec = getattr(commands.Bot, "_load_from_module_spec", None)


async def _load_executed_module(self: commands.Bot, spec: importlib.machinery.ModuleSpec, key: str) -> None:
    """``Bot._load_from_module_spec`` minus re-executing the module: discord.py's own loading
    (``setup(bot)``, bookkeeping, errors) runs on the module object the first load executed.

    What executing an extension builds, its ``Cog`` classes and their command definitions, is the
    same every time; each bot still gets its own cog instances and commands from ``setup``.
    """
    assert _load_from_module_spec is not None
    cached = _EXTENSIONS.get(key)
    if cached is None:
        await _load_from_module_spec(self, spec, key)
        module = self.extensions[key]
        inside = {name: mod for name, mod in sys.modules.items() if name.startswith(f"{key}.")}
        _EXTENSIONS[key] = (module, inside)
        return
    module, inside = cached
    sys.modules.update(inside)  # ``unload_extension`` removed the package's submodules too
    executed = importlib.util.spec_from_loader(
        key, _Executed(module), is_package=spec.submodule_search_locations is not None
    )
    assert executed is not None
    try:
        await _load_from_module_spec(self, executed, key)
    finally:
        module.__spec__ = spec


_call_module_finalizers = getattr(commands.Bot, "_call_module_finalizers", None)


async def _call_module_finalizers_in_one_pass(self: commands.Bot, lib: ModuleType, key: str) -> None:
    """``Bot._call_module_finalizers`` (run on each extension at ``close()``), minus a Python call per
    module in ``sys.modules`` and extension (some 40,000, a fifth of closing a bot) to find the
    extension's submodules: only a package has any, and they are found in one pass. Same steps: the
    extension's ``teardown(bot)`` if it has one, then the extension leaves the bot and it and its
    submodules leave ``sys.modules``."""
    try:
        teardown = getattr(lib, "teardown", None)
        if teardown is not None:
            with contextlib.suppress(Exception):
                await teardown(self)
    finally:
        self._BotBase__extensions.pop(key, None)  # type: ignore[attr-defined]
        sys.modules.pop(key, None)
        name = lib.__name__
        sys.modules.pop(name, None)
        if hasattr(lib, "__path__"):
            inside = f"{name}."
            for module in [module for module in sys.modules if module.startswith(inside)]:
                del sys.modules[module]


@pytest.fixture(scope="session")
def extension_names() -> list[str]:
    """``discover_extensions()`` walks the ``cogs`` package (importing each subpackage); once is enough."""
    return bot_app.discover_extensions()


@pytest.fixture
def _bot_reuses_the_session_catalog(
    monkeypatch: pytest.MonkeyPatch,
    catalog_loader: Callable[[Path], RoadmapCatalog],
    extension_names: list[str],
) -> None:
    """What ``setup_hook`` would redo identically for every bot, done once per process: the catalog
    parse (the session's, for the same folder), the extension list, executing each extension, and
    reading the migration scripts (a database at their heads is left alone, any other is upgraded)."""
    if hasattr(bot_app, "load_catalog"):
        monkeypatch.setattr(bot_app, "load_catalog", catalog_loader)
    monkeypatch.setattr(bot_app, "discover_extensions", lambda: list(extension_names))
    if _load_from_module_spec is not None:
        monkeypatch.setattr(commands.Bot, "_load_from_module_spec", _load_executed_module)
    if _call_module_finalizers is not None:
        monkeypatch.setattr(commands.Bot, "_call_module_finalizers", _call_module_finalizers_in_one_pass)
    monkeypatch.setattr(bot_app, "upgrade_database", upgrade_unless_current)


# SimCord settles after every action: it loops until the bot's work is done, and between two looks
# waits for that work at most ``idle`` seconds (0.05 by default). When all that is left is a callback
# already queued for the loop's next turn (SimCord's own inspection of a task that just ended), it
# sleeps the whole interval anyway: 50 ms of real time for nothing, once or more in every test. With
# a 1 ms interval it looks again almost at once. Only the pause between looks changes: a settle
# still returns only once the bot's work is done, and fails at the same deadline.
SETTLE_IDLE = 0.001
_settle_internal = simcord.Env._settle_internal


async def _settle_without_dozing(self: simcord.Env, *, idle: float = SETTLE_IDLE, **options: Any) -> None:
    await _settle_internal(self, idle=min(idle, SETTLE_IDLE), **options)


def pace_on_the_bots_clock(bot: WaypointBot) -> None:
    """From its start on, ``bot`` paces its requests by its own clock (SimCord's virtual one) rather
    than by ``time.monotonic``; the pacer is otherwise the one it builds for itself.

    Under SimCord weeks pass in milliseconds. On the real clock, posts a virtual week apart in one
    channel look like a burst, and the sixth waits out the rest of the 5-second channel window in
    real time (5 s in each test that posts weekly rounds to one channel three times over). The pacer
    is made at the start (``setup_hook`` runs inside SimCord), because the clock reads real time
    before it: a first reading months ahead of the virtual ones would hold every request back.
    A pacer a test put in place itself is left as it is.
    """
    built_with = bot.pacer
    setup_hook = bot.setup_hook

    async def start() -> None:
        if bot.pacer is built_with:
            bot.pacer = PostPacer(rate=bot.settings.post_rate, monotonic=lambda: bot.clock().timestamp())
        await setup_hook()

    bot.setup_hook = start  # type: ignore[method-assign]


@pytest_asyncio.fixture
async def make_bot(
    settings: Settings, _bot_reuses_the_session_catalog: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., WaypointBot]]:
    """Builds bots as separate processes would, and closes them all (scheduler, engine) at the end."""
    monkeypatch.setattr(simcord.Env, "_settle_internal", _settle_without_dozing)
    built: list[WaypointBot] = []

    def factory(**overrides: object) -> WaypointBot:
        bot = create_bot(settings.model_copy(update=overrides) if overrides else settings)
        pace_on_the_bots_clock(bot)
        built.append(bot)
        return bot

    yield factory
    for bot in built:
        await bot.close()


@pytest.fixture
def simcord_bot(make_bot: Callable[..., WaypointBot]) -> WaypointBot:
    return make_bot()


# --- scheduling under xdist ---------------------------------------------------------------------


# SimCord gives up on a settle (or an ``advance_time``) after ``settle_timeout`` seconds of wall time,
# 5 by default. Jobs that run through a year of virtual time (hourly sweeps) can take that long on a
# loaded 2-core machine running other suites. A passing test never waits for the deadline (settling
# returns as soon as the bot is idle), so a wider one costs nothing and only makes a hang fail later.
SETTLE_TIMEOUT = 60.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A roomier SimCord settle deadline (unless a test sets its own with ``@pytest.mark.simcord``);
    and under xdist, the long tests first.

    Long tests are the Hypothesis properties and those marked ``slow``. Started first, the last tests a
    worker runs are short ones, so no worker idles while another finishes a multi-second test. Every
    worker sorts the same way (xdist requires identical collections); serial runs keep file order.
    """
    for item in items:
        if "simcord_env" in getattr(item, "fixturenames", ()) and item.get_closest_marker("simcord") is None:
            item.add_marker(pytest.mark.simcord(settle_timeout=SETTLE_TIMEOUT))
    if getattr(config.option, "numprocesses", None) in (None, 0) and not hasattr(config, "workerinput"):
        return

    def long_first(item: pytest.Item) -> bool:
        hypothesis = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        return not (hypothesis or item.get_closest_marker("slow") is not None)

    items.sort(key=long_first)
