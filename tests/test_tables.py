"""Listings on a terminal at 80 and 120 columns: every URL, digest, WARC file name and time
shown whole on one line, no line wider than the terminal, times to the second in +08:00;
`--format csv/jsonl` unchanged."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from archive.cli import main
from archive.cli.tables import Column, duration, render, terminal_time

SAMPLE_PATH = "xwdt/gsyw/202602/t20260204_163644.html"
WIDTHS = (80, 120)
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.\d]*\+\d\d:\d\d")


def table(width: int, *args: str) -> str:
    result = CliRunner().invoke(
        main, [*args, "--format", "table"], env={"COLUMNS": str(width)}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def jsonl(*args: str) -> list[dict]:
    result = CliRunner().invoke(main, [*args, "--format", "jsonl"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_whole(shown: str, width: int, wanted: set[str]) -> None:
    lines = shown.splitlines()
    assert lines, "nothing shown"
    for line in lines:
        assert cell_len(line) <= width, f"wider than {width}: {line!r}"
    for value in wanted:
        assert any(value in line for line in lines), f"{value} not whole on one line:\n{shown}"
    # A time on a terminal is to the second, in +08:00 (no microseconds, no +00:00).
    for moment in TIME.findall(shown):
        assert moment.endswith("+08:00") and "." not in moment, moment


@pytest.fixture(scope="module")
def home(crawled) -> str:
    return str(crawled.home)


@pytest.mark.parametrize("width", WIDTHS)
def test_search(home, width):
    query = ["search", "中铝", "--home", home]
    wanted = {hit["url"] for hit in jsonl(*query)}
    assert len(wanted) > 3
    shown = table(width, *query)
    assert_whole(shown, width, wanted)
    assert shown.splitlines()[0] == f"{len(wanted)} articles containing 中铝"


def test_search_caption_says_how_many_match(home):
    total = len(jsonl("search", "中铝", "--home", home, "--limit", "0"))
    shown = table(120, "search", "中铝", "--home", home, "--limit", "3")
    assert shown.splitlines()[0] == f"3 of {total} articles containing 中铝 (--limit 0 shows all)"


@pytest.mark.parametrize("width", WIDTHS)
def test_runs(home, width):
    runs = jsonl("runs", "--home", home)
    shown = table(width, "runs", "--home", home)
    assert_whole(shown, width, {terminal_time(run["started_at"]) for run in runs})
    assert all(duration(run["started_at"], run["finished_at"]) in shown for run in runs)
    assert "took" in shown.split()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("verb", ["versions", "captures"])
def test_one_url(home, replica, width, verb):
    url = replica.base_url + SAMPLE_PATH
    records = jsonl(verb, url, "--home", home)
    wanted = {url} | {r["content_sha256"] for r in records}
    wanted |= {r["warc_file"] for r in records if r.get("warc_file")}  # captures
    shown = table(width, verb, url, "--home", home)
    assert_whole(shown, width, wanted)


@pytest.mark.parametrize("width", WIDTHS)
def test_sites(home, width):
    rows = jsonl("sites", "--home", home)
    shown = table(width, "sites", "--home", home)
    assert_whole(shown, width, {row["base_url"] for row in rows})
    header = shown.splitlines()[1]
    assert "extra_sections" in header.split() and "news_roots" in header.split()


@pytest.mark.parametrize("width", WIDTHS)
def test_stats(home, width):
    rows = jsonl("stats", "--home", home)
    shown = table(width, "stats", "--home", home)
    assert_whole(shown, width, set())
    for row in rows:
        assert re.search(
            rf"{re.escape(row['section'])}\s+{row['month']}\s+{row['articles']}\b", shown
        )


def test_csv_and_jsonl_are_exact(home):
    """Scripts get the stored values: full times with microseconds in UTC, no layout."""
    (run,) = jsonl("runs", "--home", home)[:1]
    assert run["started_at"].endswith("+00:00") and "took" not in run
    result = CliRunner().invoke(main, ["runs", "--home", home, "--format", "csv"])
    header = result.stdout.lstrip("\ufeff").splitlines()[0].split(",")
    assert "finished_at" in header and "took" not in header


def test_prose_is_shortened_and_a_long_identifier_goes_under_its_row():
    url = "https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_163644.html"
    rows = [{"title": "中铝股份召开一届四次职工代表大会" * 3, "url": url, "n": 7}]
    columns = [Column("title"), Column("n", "number"), Column("url", "id")]
    wide = [line.plain for line in render(rows, columns, 200)]
    assert any(url in line and "大会中铝" in line for line in wide)  # all on one row
    narrow = [line.plain for line in render(rows, columns, 70)]
    assert all(cell_len(line) <= 70 for line in narrow)
    assert narrow[-1] == " " * 4 + url  # under its row
    assert "…" in narrow[-2] and narrow[-2].rstrip().endswith("7")
    # Narrower than the identifier itself: it keeps its line, unindented, whole.
    tight = [line.plain for line in render(rows, columns, 60)]
    assert tight[-1] == url and all(cell_len(line) <= 60 for line in tight[:-1])


def test_times_and_durations():
    assert terminal_time("2026-12-06T19:10:02.758136+00:00") == "2026-12-07T03:10:02+08:00"
    assert terminal_time("2026-02-04") == "2026-02-04"
    assert duration("2026-12-06T19:10:02+00:00", "2026-12-06T19:13:07.6+00:00") == "3 min 06 s"
    assert duration("2026-12-06T19:10:02+00:00", None) == ""
