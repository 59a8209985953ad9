"""`chalco-archive` starts light: `import archive.cli`, `--help` and `--version` import none
of the heavy libraries, the verbs listed from the registry say what the verbs themselves say,
and an error from SQLAlchemy, imported late, still reads as one line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from archive.cli import VERBS, main
from tests.fresh_interpreter import loaded_after

HEAVY = ("sqlalchemy", "alembic", "rich", "scrapy", "twisted", "lxml", "warcio", "pyarrow")


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"]])
def test_starting_imports_no_heavy_library(args, tmp_path):
    answer = tmp_path / "answer.txt"
    code = (
        "import contextlib\n"
        "from archive.cli import main\n"
        f"with open({str(answer)!r}, 'w') as out, contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert loaded_after(code, tmp_path, *HEAVY) == []
    if args:  # the command did answer
        shown = answer.read_text()
        assert "version 0.1.0" in shown or "Commands:" in shown


@pytest.mark.parametrize("name", sorted(VERBS))
def test_registry_short_help_is_the_verbs_own(name):
    command = VERBS[name].load()
    assert command.name == name
    assert VERBS[name].short_help == command.get_short_help_str(limit=sys.maxsize)


@pytest.mark.parametrize("width", [30, 80, 200])
def test_help_lists_the_verbs_as_click_would(width):
    # Rendered from the registry (in a fresh interpreter, nothing loaded yet) and by a plain
    # click group holding every verb's command: the same text at any terminal width.
    code = (
        "from click.testing import CliRunner\n"
        "from archive.cli import main\n"
        f"print(CliRunner().invoke(main, ['--help'], terminal_width={width}).output, end='')\n"
    )
    lazy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    eager = click.Group(
        "main",
        commands={name: verb.load() for name, verb in VERBS.items()},
        params=main.params,
        help=main.help,
        context_settings=main.context_settings,
    )
    expected = CliRunner().invoke(eager, ["--help"], terminal_width=width).output
    assert lazy.stdout == expected
    assert "Commands:" in expected


def test_help_lists_every_verb():
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", "--help"], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    listed = completed.stdout.partition("Commands:\n")[2].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == sorted(VERBS)
    for line in listed:
        name, _, short_help = line.strip().partition(" ")
        shown = short_help.strip().removesuffix("...")
        assert VERBS[name].short_help.startswith(shown)


def test_a_database_error_is_one_line(tmp_path):
    # A file named as the archive's database that SQLite cannot read: SQLAlchemy, imported
    # only by the verb, raises; the user sees one line.
    (tmp_path / "archive.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(4000))
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", "stats", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 1
    assert completed.stderr == "Error: cannot use the database: file is not a database\n"


@pytest.mark.parametrize(
    "verb",
    [["search", "中铝"], ["stats"], ["runs"], ["show", "http://x/"], ["captures", "http://x/"]],
)
def test_a_database_without_the_archive_tables_is_one_line_error(tmp_path, verb):
    # An SQLite file that holds none of the archive's tables: the read verbs run plain sqlite3
    # (search too, with its own queries), and its error is said as any database error.
    connection = sqlite3.connect(tmp_path / "archive.sqlite3")
    connection.execute("CREATE TABLE something_else (a)")
    connection.close()
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", *verb, "--home", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 1
    last = completed.stderr.splitlines()[-1]
    assert last.startswith("Error: cannot use the database: no such table: "), completed.stderr
    assert "Traceback" not in completed.stderr
