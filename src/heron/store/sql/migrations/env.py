"""Alembic environment: runs migrations on the connection Heron hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from heron.store.sql.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
