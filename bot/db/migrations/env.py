"""Alembic environment: migrations run on a connection handed over by ``bot.db.engine``."""

from __future__ import annotations

from alembic import context

from bot.db.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `waypoint db upgrade` (bot.db.engine.upgrade_database)")

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
