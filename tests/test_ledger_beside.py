"""verify's ledger pass in a forked child beside the WARC pass (archive.evidence.ledger_beside):
the same findings as the pass run in the process itself, its errors raised there, and a
child that dies leaves the pass to the parent, never a verdict without it."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
from pathlib import Path

import pytest

from archive.evidence import ledger_beside
from archive.evidence.findings import Progress, VerifyReport
from archive.evidence.ledger_beside import RESULT_FIELDS, LedgerPass
from archive.read.sql import open_sql_reader
from archive.store.home import ArchiveHome
from tests.small_archive import build_small_archive

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform cannot fork")


class Counted(Progress):
    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def rows(self, done: int, total: int) -> None:
        self.seen.append((done, total))


def ledger_pass(root: Path, *, beside: bool) -> tuple[VerifyReport, Counted]:
    home = ArchiveHome.at(root)
    report, progress = VerifyReport(), Counted()
    with open_sql_reader(home) as reader:
        LedgerPass(home, reader, None, None, beside=beside).result(report, progress)
    return report, progress


def tamper(root: Path) -> None:
    """A version's body edited and an entry of the chain removed: problems of both kinds."""
    connection = sqlite3.connect(root / "archive.sqlite3")
    connection.execute(
        "update article_versions set body = body || '（篡改）'"
        " where id = (select max(id) from article_versions)"
    )
    connection.execute("delete from ledger where id = 3")
    connection.commit()
    connection.close()


def test_the_child_finds_what_the_process_itself_finds(tmp_path):
    root = build_small_archive(tmp_path / "home").home
    clean, progress = ledger_pass(root, beside=True)
    assert clean.ok and clean.ledger_entries > 0 and clean.tree_size == clean.ledger_entries
    assert progress.seen and progress.seen[-1][0] == progress.seen[-1][1]  # its bar ends
    tamper(root)
    in_child, _ = ledger_pass(root, beside=True)
    in_process, _ = ledger_pass(root, beside=False)
    lines = [problem.line() for problem in in_child.problems]
    assert any(re.match(r"version \d+ was edited", line) for line in lines)
    assert any("ledger broken at entry 4" in line for line in lines)
    assert in_child.problems == in_process.problems
    assert in_child.notes == in_process.notes
    for name in RESULT_FIELDS:
        assert getattr(in_child, name) == getattr(in_process, name), name


def test_an_error_in_the_child_is_raised_in_the_process(tmp_path):
    root = build_small_archive(tmp_path / "home").home
    connection = sqlite3.connect(root / "archive.sqlite3")
    connection.execute("drop table ledger")
    connection.commit()
    connection.close()
    with pytest.raises(sqlite3.OperationalError, match="ledger"):
        ledger_pass(root, beside=False)
    with pytest.raises(sqlite3.OperationalError, match="ledger"):
        ledger_pass(root, beside=True)


def test_a_child_killed_leaves_the_pass_to_the_process(tmp_path, monkeypatch):
    root = build_small_archive(tmp_path / "home").home
    tamper(root)
    parent = os.getpid()
    real = ledger_beside._run_ledger_pass

    def killed_in_the_child(*args, **kwargs):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger_beside, "_run_ledger_pass", killed_in_the_child)
    report, _ = ledger_pass(root, beside=True)
    assert any(re.match(r"version \d+ was edited", p.line()) for p in report.problems)
    assert report.ledger_entries > 0


def test_each_share_finds_its_own_and_no_finding_twice(tmp_path):
    """The pass runs in two shares (the versions; the rest with the chain): a row edited in
    each is found, and an entry of a kind no share checks is named once, not by both."""
    root = build_small_archive(tmp_path / "home").home
    connection = sqlite3.connect(root / "archive.sqlite3")
    connection.execute("update captures set url = url || '?x' where id = 1")
    connection.execute(
        "update article_versions set title = title || '（改）'"
        " where id = (select min(id) from article_versions)"
    )
    last = connection.execute(
        "select entry_hash, position from ledger order by id desc limit 1"
    ).fetchone()
    connection.execute(
        "insert into ledger (kind, ref_id, digest, entry_hash, created_at, position)"
        " values ('mystery', 1, :digest, :digest, '2026-12-07T00:00:00+00:00', :position)",
        {"digest": "0" * 64, "position": last[1] + 1},
    )
    connection.commit()
    connection.close()
    for beside in (True, False):
        lines = [problem.line() for problem in ledger_pass(root, beside=beside)[0].problems]
        assert sum(bool(re.match(r"capture 1 was edited", line)) for line in lines) == 1
        assert sum(bool(re.match(r"version \d+ was edited", line)) for line in lines) == 1
        assert sum("of unknown kind" in line for line in lines) == 1, lines
