"""The read verbs start fast (issue 16): on SQLite their path below the CLI, the reader of
archive.read.sql and the read functions, imports neither SQLAlchemy nor Alembic, checked in
a fresh interpreter on a small real archive; and they answer the same through that reader as
through a SQLAlchemy session."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.read.articles import get_article, iter_articles
from archive.read.captures import captures, get_snapshot
from archive.read.runs import list_runs
from archive.read.search import search
from archive.read.sql import open_sql_reader
from archive.read.stats import section_month_counts
from archive.read.versions import diff_versions, same_story, version_history
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from tests.fresh_interpreter import loaded_after
from tests.small_archive import SmallArchive, build_small_archive

HEAVY = ("sqlalchemy", "alembic")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SmallArchive:
    return build_small_archive(tmp_path_factory.mktemp("small") / "home")


def heavy_modules_after(code: str, cwd: Path) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running `code` (which must
    succeed: its own asserts check that the verb did its work)."""
    return loaded_after(code, cwd, *HEAVY)


def read_path(small: SmallArchive) -> dict[str, str]:
    """Each read verb's work as its CLI body does it, on `reader` and `home`."""
    edited, removed = repr(small.edited_url), repr(small.removed_url)
    return {
        "runs": "assert list_runs(reader)[0]['status'] == 'ok'",
        "stats": "assert section_month_counts(reader)",
        "show": f"assert get_article(reader, {edited}).record['version'] == 2\n"
        f"assert same_story(reader, {edited})",
        "versions": f"assert len(version_history(reader, {edited})) == 2",
        "diff": f"assert diff_versions(reader, {edited}, None, None)",
        "captures": f"assert len(captures(reader, {removed})) == 2",
        "snapshot": f"assert get_snapshot(reader, home, {edited}).content.endswith(b'</p>')",
        "search": "assert search(reader, '第二段')",
        "export": "assert len(list(iter_articles(reader))) == 3",
    }


PRELUDE = """\
from archive.read.articles import get_article, iter_articles
from archive.read.captures import captures, get_snapshot
from archive.read.runs import list_runs
from archive.read.search import search
from archive.read.sql import open_sql_reader
from archive.read.stats import section_month_counts
from archive.read.versions import diff_versions, same_story, version_history
from archive.store.home import ArchiveHome
home = ArchiveHome.at({root!r})
reader = open_sql_reader(home)
"""


@pytest.mark.parametrize(
    "verb", ["runs", "stats", "show", "versions", "diff", "captures", "snapshot", "search"]
)
def test_a_read_verbs_path_imports_no_sqlalchemy(small, verb, tmp_path):
    code = PRELUDE.format(root=str(small.home)) + read_path(small)[verb] + "\nreader.close()"
    assert heavy_modules_after(code, tmp_path) == []


def test_the_export_path_imports_no_sqlalchemy_either(small, tmp_path):
    code = PRELUDE.format(root=str(small.home)) + read_path(small)["export"]
    assert heavy_modules_after(code, tmp_path) == []


def cli_arguments(small: SmallArchive, verb: str, tmp_path: Path) -> list[str]:
    by_verb = {
        "runs": ["runs"],
        "stats": ["stats"],
        "show": ["show", small.edited_url],
        "versions": ["versions", small.edited_url],
        "diff": ["diff", small.edited_url],
        "captures": ["captures", small.removed_url],
        "snapshot": ["snapshot", small.edited_url, "--output", str(tmp_path / "page.html")],
        "search": ["search", "第二段"],
    }
    return [*by_verb[verb], "--home", str(small.home)]


@pytest.mark.parametrize(
    "verb", ["runs", "stats", "show", "versions", "diff", "captures", "snapshot", "search"]
)
def test_a_read_verb_through_the_cli_imports_no_sqlalchemy(small, verb, tmp_path):
    arguments = cli_arguments(small, verb, tmp_path)
    code = (
        "import contextlib, io\n"
        "from archive.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({arguments!r}, standalone_mode=False)"
    )
    assert heavy_modules_after(code, tmp_path) == []


@pytest.mark.parametrize(
    "verb", ["runs", "stats", "show", "versions", "diff", "captures", "snapshot", "search"]
)
def test_a_read_verb_runs_through_the_cli(small, verb, tmp_path):
    """What the test above runs works, so that only the imports can make that one fail."""
    result = CliRunner().invoke(main, cli_arguments(small, verb, tmp_path))
    assert result.exit_code == 0, result.output


def test_the_reader_and_a_session_read_the_same(small):
    """Both ways in: the read verbs' sqlite3 reader, and a SQLAlchemy session (report,
    browse and the tests hand one over)."""
    home = ArchiveHome.at(small.home)
    edited, removed = small.edited_url, small.removed_url
    at = datetime(2026, 2, 5, 1, 2, tzinfo=UTC)

    def everything(database: Any) -> list[Any]:
        first = get_snapshot(database, home, edited, at=at)
        return [
            list_runs(database),
            section_month_counts(database),
            section_month_counts(database, "chalco"),
            get_article(database, edited).record,
            get_article(database, edited, 1).versions,
            same_story(database, edited),
            version_history(database, edited),
            diff_versions(database, edited, 1, 2),
            captures(database, removed),
            (first.capture, first.content),
            list(iter_articles(database, since="2026-02", until="2026-02-05")),
            list(iter_articles(database, section="xwdt/gsyw", site="chalco")),
            search(database, "第一段"),
        ]

    with open_sql_reader(home) as reader:
        through_sqlite = everything(reader)
    engine = open_reader(home)
    with session_factory(engine)() as session:
        through_session = everything(session)
    engine.dispose()
    assert through_sqlite == through_session
    assert through_sqlite[3]["attachments"][0]["name"] == "年度报告.pdf"
    assert through_sqlite[8][0]["oversize"] is False


def test_a_file_that_is_no_database_is_one_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "archive.sqlite3").write_bytes(b"not an SQLite database, whatever its name says\n" * 4)
    result = CliRunner().invoke(main, ["runs", "--home", str(home)])
    assert result.exit_code == 1
    assert result.output == "Error: cannot use the database: file is not a database\n"
