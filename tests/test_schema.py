"""Opening an archive checks its schema revision with one query: Alembic is imported only
when an upgrade is due, and a database from a newer release is refused in one line."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from archive.cli import main
from archive.store.db import _alembic_config, open_writer, schema_revision
from archive.store.home import ArchiveHome
from archive.store.schema import HEAD_REVISION, SchemaTooNew
from tests.conftest import postgresql_database
from tests.fresh_interpreter import loaded_after

NEWER = "0999"


def stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_head_revision_is_alembics_head():
    scripts = ScriptDirectory.from_config(_alembic_config("sqlite://"))
    assert scripts.get_heads() == [HEAD_REVISION]


def test_the_home_and_the_schema_revision_import_no_database_library(tmp_path):
    code = "import archive.store.home, archive.store.schema"
    assert loaded_after(code, tmp_path, "sqlalchemy", "alembic") == []


def test_opening_a_current_archive_imports_no_alembic(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    open_writer(home).dispose()
    code = (
        "from archive.store.db import open_writer\n"
        "from archive.store.home import ArchiveHome\n"
        f"open_writer(ArchiveHome.at({str(home.root)!r})).dispose()"
    )
    assert loaded_after(code, tmp_path, "alembic", "mako") == []


def test_an_older_archive_is_still_upgraded(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    home.create()
    engine = create_engine(home.database_url)
    config = _alembic_config(home.database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")
    assert schema_revision(engine) == "0013"
    open_writer(home).dispose()
    assert schema_revision(engine) == HEAD_REVISION
    engine.dispose()


def test_an_archive_from_a_newer_release_is_refused_in_one_line(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    open_writer(home).dispose()
    stamp(home.database_url, NEWER)
    with pytest.raises(SchemaTooNew, match=f"revision {NEWER}.*newest is {HEAD_REVISION}"):
        open_writer(home)
    result = CliRunner().invoke(main, ["reindex", "--home", str(home.root)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert f"schema revision {NEWER}" in result.output and "upgrade chalco-archive" in result.output
    engine = create_engine(home.database_url)
    assert schema_revision(engine) == NEWER  # nothing was written
    engine.dispose()


def test_on_postgresql_the_same_check_and_refusal(tmp_path):
    with postgresql_database() as url:
        home = ArchiveHome.at(tmp_path / "home", url)
        open_writer(home).dispose()
        code = (
            "from archive.store.db import open_writer\n"
            "from archive.store.home import ArchiveHome\n"
            f"open_writer(ArchiveHome.at({str(home.root)!r}, {url!r})).dispose()"
        )
        assert loaded_after(code, tmp_path, "alembic") == []
        stamp(url, NEWER)
        with pytest.raises(SchemaTooNew, match=f"revision {NEWER}"):
            open_writer(home)
