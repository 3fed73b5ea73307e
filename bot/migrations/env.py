"""Alembic environment: runs on the connection that ``SocialStore.upgrade()`` passes in."""

from __future__ import annotations

from alembic import context

from bot.migrations.env_config import VERSION_TABLE
from bot.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through bot.store.SocialStore.upgrade() or `python -m bot store upgrade`"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
