"""A closed WARC file's seal (archive.evidence.warc_seal): `record_count` and `index_sha256`,
set when the writer closes a file whose every record the fast pass vouches for, and covered
by the ledger as kind `warc_seal`. Files closed before stay unsealed: `verify` reads their
records every time, as it always has.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("warc_files")}
    if "index_sha256" in columns:
        return  # brought down past this revision and up again: the columns were kept
    # Plain ADD COLUMNs (not a batch copy): the views of 0004 name warc_files.
    op.add_column("warc_files", sa.Column("record_count", sa.Integer(), nullable=True))
    op.add_column("warc_files", sa.Column("index_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    # The columns stay: the `warc_seal` ledger entries cover them (older code, which knows
    # no such kind, reports each of those entries; a later upgrade finds them valid again).
    pass
