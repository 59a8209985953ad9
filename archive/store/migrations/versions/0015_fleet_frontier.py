"""A fleet of workers keeps in the archive what its shared queue in Redis holds: each fleet
crawl (fleet_runs) and what it queued and finished (fleet_frontier), so that the queue can be
rebuilt when Redis restarts empty or a fleet crawl ends unfinished; each worker's run names
its fleet run.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Present when the archive was stamped back below this revision and is upgraded again
    # (as a test of an older migration does): then only what is missing is made.
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "fleet_runs" not in tables:
        _create_fleet_runs()
    if "fleet_frontier" not in tables:
        _create_fleet_frontier()
    if "fleet_run_id" not in {c["name"] for c in inspector.get_columns("crawl_runs")}:
        # No foreign key: SQLite adds a column with one only by copying the table, and the
        # views of 0004 name crawl_runs.
        op.add_column("crawl_runs", sa.Column("fleet_run_id", sa.Integer(), nullable=True))


def _create_fleet_runs() -> None:
    op.create_table(
        "fleet_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fleet", sa.String(length=128), nullable=False),
        sa.Column("generation", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.String(length=32), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=True),
        sa.Column("resumed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resumed_by"], ["fleet_runs.id"], name=op.f("fk_fleet_runs_resumed_by_fleet_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_runs")),
        sa.UniqueConstraint("generation", name=op.f("uq_fleet_runs_generation")),
    )


def _create_fleet_frontier() -> None:
    op.create_table(
        "fleet_frontier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fleet_run_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("request", sa.LargeBinary(), nullable=True),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["fleet_run_id"],
            ["fleet_runs.id"],
            name=op.f("fk_fleet_frontier_fleet_run_id_fleet_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_frontier")),
    )
    op.create_index(
        "ix_fleet_frontier_run_fingerprint", "fleet_frontier", ["fleet_run_id", "fingerprint"]
    )


def downgrade() -> None:
    # Not a batch (copy-and-rename) operation: the views of 0004 name crawl_runs.
    op.execute("ALTER TABLE crawl_runs DROP COLUMN fleet_run_id")
    op.drop_index("ix_fleet_frontier_run_fingerprint", table_name="fleet_frontier")
    op.drop_table("fleet_frontier")
    op.drop_table("fleet_runs")
