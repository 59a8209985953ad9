"""The schema revision this code writes, known without Alembic, and the refusal of a
database whose schema is newer than that. Imports no database library."""

from __future__ import annotations

from archive.errors import ArchiveError

# The newest migration in archive/store/migrations/versions. Known without importing Alembic
# (~0.15 s with Mako) so that opening a current archive costs one query; tests/test_schema.py
# checks it against Alembic's own view of the head.
HEAD_REVISION = "0020"


class SchemaTooNew(ArchiveError):
    """The database was migrated by a newer release: this code does not know its schema, and
    writing to it could corrupt what that release stored."""


def too_new(revision: str) -> SchemaTooNew:
    return SchemaTooNew(
        f"the archive's database is at schema revision {revision}, which this chalco-archive"
        f" does not know (its newest is {HEAD_REVISION}): it was written by a newer release;"
        " upgrade chalco-archive to use it"
    )
