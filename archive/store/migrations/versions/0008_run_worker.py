"""Crawl runs name their worker: a distributed crawl has one run per worker process, and a
worker restarted after a kill recovers only the runs of workers that are gone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crawl_runs", sa.Column("worker", sa.String(length=128), nullable=True))


def downgrade() -> None:
    # Not a batch (copy-and-rename) operation: the views of 0004 name crawl_runs.
    op.execute("ALTER TABLE crawl_runs DROP COLUMN worker")
