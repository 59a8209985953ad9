"""Alembic environment: migrations run programmatically by archive.store.db.upgrade(), which hands
over the connection to migrate."""

from alembic import context

from archive.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
