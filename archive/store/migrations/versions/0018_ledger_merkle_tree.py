"""The ledger as a Merkle tree (RFC 9162) beside its hash chain: each entry gets its leaf's
position, the tree's nodes are kept in `ledger_nodes` (so that an append, an inclusion proof
and a consistency proof each read a few dozen of them), and the heads recorded at the end of
each run, with their RFC 3161 timestamp tokens, in `ledger_heads`. An archive made before
gets the tree of the entries it holds, in the order they were written; its first head is
recorded by its next run (or `chalco-archive attest`).

Revision ID: 0018
Revises: 0014 (the lead chains it at merge)
Create Date: 2026-12-06
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Frozen copies of archive.store.merkle's leaf and node rules as they were when this
# migration was written: a migration must not change meaning when the code later does.
LEDGER_LOCK = 0x63680002
BATCH = 5000


def _leaf(kind: str, ref_id: int, digest: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{kind} {ref_id} {digest}".encode("ascii")).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def upgrade() -> None:
    connection = op.get_bind()
    inspector = sa.inspect(connection)
    columns = {column["name"] for column in inspector.get_columns("ledger")}
    # The positions and the heads are kept by a downgrade (see below).
    if "position" not in columns:
        op.add_column("ledger", sa.Column("position", sa.Integer(), nullable=True))
    if "ix_ledger_kind_ref_id" not in {index["name"] for index in inspector.get_indexes("ledger")}:
        op.create_index("ix_ledger_kind_ref_id", "ledger", ["kind", "ref_id"])
    tables = inspector.get_table_names()
    if "ledger_heads" not in tables:
        _create_heads()
    if "ledger_nodes" in tables:  # left by a partial downgrade: the tree is built anew
        op.drop_table("ledger_nodes")
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_ledger_nodes")),
    )
    _fill_tree(connection)


def _create_heads() -> None:
    op.create_table(
        "ledger_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.LargeBinary(), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("tsa_url", sa.Text(), nullable=True),
        sa.Column("timestamped_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name=op.f("fk_ledger_heads_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_heads")),
    )


def _fill_tree(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK})
    # The entries in the order they were chained; the tree kept as its perfect blocks.
    blocks: list[tuple[int, bytes]] = []
    positions: list[dict[str, int]] = []
    nodes: list[dict[str, object]] = []
    update = sa.text("update ledger set position = :position where id = :entry_id")
    insert = sa.text("insert into ledger_nodes (level, position, hash) values (:l, :p, :h)")
    size, last_id = 0, -1
    page = sa.text(
        "select id, kind, ref_id, digest from ledger where id > :last order by id limit :n"
    )
    # A page at a time, each written before the next is read: memory stays flat.
    while rows := connection.execute(page, {"last": last_id, "n": BATCH}).all():
        for entry_id, kind, ref_id, digest in rows:
            positions.append({"position": size, "entry_id": entry_id})
            level, position, current = 0, size, _leaf(kind, ref_id, digest)
            nodes.append({"l": 0, "p": position, "h": current})
            while blocks and blocks[-1][0] == level:
                current = _node(blocks.pop()[1], current)
                level += 1
                position >>= 1
                nodes.append({"l": level, "p": position, "h": current})
            blocks.append((level, current))
            size += 1
        last_id = rows[-1][0]
        connection.execute(insert, nodes)
        connection.execute(update, positions)
        nodes, positions = [], []


def downgrade() -> None:
    # The positions and the heads stay: the heads' ledger entries stand for them, and a
    # hash chain is never cut. The tree goes; upgrading again builds it anew over every
    # entry (those written meanwhile after the rest), and the heads still match it.
    op.drop_table("ledger_nodes")
    op.drop_index("ix_ledger_kind_ref_id", table_name="ledger")
