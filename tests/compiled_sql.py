"""One compiled-SQL cache per database backend for every engine a test process builds.

SQLAlchemy compiles each distinct statement once per engine and keeps the result in the engine's
cache, keyed by the engine's dialect object. A bot process builds one engine and compiles its
statements once. The tests build an engine for every bot and every ``engine`` fixture, and so
compiled every statement the bot uses again in every test: about a tenth of a behaviour test's
CPU time.

Here every engine of a backend shares one cache, whose keys name the dialect by its class and the
server version instead of by the object: engines of one class talking to one server compile a
statement to the same SQL, with the same parameter and result handling. Everything else in the key
(the statement's own cache key, the columns, executemany) is SQLAlchemy's as it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import LRUCache

SIZE = 2000  # distinct statements per backend; the bot and its tests use a few hundred


class SharedCompiledCache(LRUCache[Any, Any]):
    """An engine's compiled cache that treats engines of one dialect class and server alike."""

    __slots__ = ()

    @staticmethod
    def _shared_key(key: Any) -> Any:
        dialect, *rest = key
        return (type(dialect), dialect.server_version_info, *rest)

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._shared_key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._shared_key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._shared_key(key), value)

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(self._shared_key(key))


_CACHES: dict[type, SharedCompiledCache] = {}


def share_compiled_sql(engine: AsyncEngine) -> AsyncEngine:
    """Give ``engine`` the process's compiled cache for its backend; returns it."""
    sync_engine = engine.sync_engine
    cache = _CACHES.setdefault(type(sync_engine.dialect), SharedCompiledCache(SIZE))
    sync_engine._compiled_cache = cache
    return engine
