"""Acknowledged losses: a capture whose WARC record `verify` found missing or damaged, and the
capture `repair` fetched from the site to replace it (`capture_losses`, covered by the ledger
as kind `capture_loss`). The lost capture's row and record are left as they are. No rows yet,
so no ledger entries to write.

Revision ID: 0017
Revises: 0014 (the lead chains it at merge)
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "capture_losses" in sa.inspect(op.get_bind()).get_table_names():
        return  # brought down past this revision and up again: the table was kept
    op.create_table(
        "capture_losses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("found", sa.Text(), nullable=False),
        sa.Column("replacement_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["captures.id"], name="fk_capture_losses_capture_id_captures"
        ),
        sa.ForeignKeyConstraint(
            ["replacement_id"], ["captures.id"], name="fk_capture_losses_replacement_id_captures"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_capture_losses_run_id_crawl_runs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_capture_losses"),
        sa.UniqueConstraint("capture_id", name="uq_capture_losses_capture_id"),
    )


def downgrade() -> None:
    # Older code never reads the table; dropping it would drop rows the ledger covers.
    pass
