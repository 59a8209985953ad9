"""The analysts' examples run: every ```sql block of the recipes and views pages against a
crawled archive (read-only), and the page's Python search example."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "docs" / "analysts" / name for name in ("recipes.md", "views.md")]
LIVE_URL = "https://www.chalco.com.cn/"
PAGE_HOME = "/home/me/chalco/archive.sqlite3"


def blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for block in re.findall(rf"```{language}\n(.*?)```", page.read_text("utf-8"), re.S):
            found.append((page.name, block))
    return found


@pytest.mark.parametrize(("page", "sql"), blocks("sql"), ids=lambda v: v.split("\n")[0][:40])
def test_every_sql_example_runs(crawled, replica, page, sql):
    database = crawled.home / "archive.sqlite3"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute(sql.replace(LIVE_URL, replica.base_url)).fetchall()
    finally:
        connection.close()
    assert isinstance(rows, list)


def test_the_python_search_example_runs(crawled, replica):
    (example,) = [code for _page, code in blocks("python") if "archive.read.search" in code]
    code = example.replace(PAGE_HOME, str(crawled.home / "archive.sqlite3"))
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert 0 < len(lines) <= 5 and all(replica.base_url in line for line in lines)
