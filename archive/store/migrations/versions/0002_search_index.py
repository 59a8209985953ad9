"""search index: FTS5 tables of character pairs over article versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:30:00.000000

`search_index` covers title and body, `search_title` the title alone (archive.read.search looks
for title matches first). Contentless (`content=''`): the text stays in article_versions
only; the index is a candidate filter that archive.read.search checks exactly. Not
`contentless_delete=1`: that needs SQLite 3.43, and a file using it cannot be opened by an
older SQLite (analysts' tools, Debian 12's Python); versions are never deleted, and a
rebuild uses 'delete-all'.

Existing versions are indexed here, with frozen copies of archive.read.search's rules as they
were at this revision (a migration must not change meaning when the code later does): the
overlapping pairs of the characters the tokenizer keeps, closed by U+E000, and the rowid
`YYYYMMDD of published << 32 | version id`.
"""

import re
import sqlite3

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TOKENIZER = "unicode61 remove_diacritics 0"
END = "\ue000"
BATCH = 500
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class TokenChars:
    """Which characters the tokenizer keeps, as SQLite's own tokenizer answers."""

    def __init__(self) -> None:
        self.known: dict[str, bool] = {}
        self.db = sqlite3.connect(":memory:")
        self.db.execute(f"CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='{TOKENIZER}')")
        self.db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(probe, 'instance')")

    def keep(self, text: str) -> str:
        unknown = [c for c in set(text) if c not in self.known]
        if unknown:
            self.db.execute("DELETE FROM probe")
            self.db.executemany(
                "INSERT INTO probe (rowid, x) VALUES (?, ?)",
                [(i, "" if c == "\x00" else c) for i, c in enumerate(unknown, 1)],
            )
            kept = {row[0] for row in self.db.execute("SELECT DISTINCT doc FROM terms")}
            for i, c in enumerate(unknown, 1):
                self.known[c] = i in kept
        return "".join([c for c in text if self.known[c]])


def pairs(tokens: TokenChars, text: str | None) -> str:
    chars = tokens.keep(text) if text else ""
    if not chars:
        return ""
    chars += END
    return " ".join([chars[i : i + 2] for i in range(len(chars) - 1)])


def rowid(version_id: int, published: str | None) -> int:
    match = ISO_DATE.match(published or "")
    day = int("".join(match.groups())) if match else 0
    return day << 32 | version_id


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        f"title, body, tokenize='{TOKENIZER}', content='')"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE search_title USING fts5(title, tokenize='{TOKENIZER}', content='')"
    )
    tokens = TokenChars()
    last_id = 0
    while True:
        rows = bind.exec_driver_sql(
            "SELECT id, published, title, body FROM article_versions"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, BATCH),
        ).all()
        if not rows:
            break
        indexed = [
            (rowid(row[0], row[1]), pairs(tokens, row[2]), pairs(tokens, row[3])) for row in rows
        ]
        bind.exec_driver_sql(
            "INSERT INTO search_index (rowid, title, body) VALUES (?, ?, ?)", indexed
        )
        bind.exec_driver_sql(
            "INSERT INTO search_title (rowid, title) VALUES (?, ?)",
            [(key, title) for key, title, _body in indexed],
        )
        last_id = rows[-1][0]
    tokens.db.close()


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE search_title")
    op.execute("DROP TABLE search_index")
