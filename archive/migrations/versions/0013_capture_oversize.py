"""A capture whose payload decodes past the crawl's size limit (a decompression bomb) is
flagged `oversize`: its wire bytes are archived as they came, it is never inflated, and its
content digest and size are those of the payload as on the wire.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (not a batch copy): the views of 0004 name captures.
    op.add_column(
        "captures",
        sa.Column("oversize", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE captures DROP COLUMN oversize")
