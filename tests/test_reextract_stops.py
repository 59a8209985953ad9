"""reextract stopped mid-run over a real HTTP crawl of the replica: killed with SIGKILL, or
stopped with SIGTERM, then run again: nothing lost, nothing written twice."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_site
from tests.conftest import run_crawl
from tests.test_reextract import (
    assert_exact,
    cli,
    query,
    records,
    reextract_command,
    run_reextract,
    wrong_profile,
)


@dataclass
class Larger:
    home: Path
    site: ReplicaSite
    base_url: str
    articles: int
    changing: int
    """Articles the right profile reads otherwise."""


@pytest.fixture(scope="module")
def larger(tmp_path_factory: pytest.TempPathFactory) -> Larger:
    """300 articles crawled with the wrong profile: long enough a run to stop in."""
    work = tmp_path_factory.mktemp("larger")
    home = work / "home"
    site = build_site(articles=300, page_size=20)
    with ReplicaServer(site) as server:
        crawl = run_crawl(home, server.base_url, "--site", str(wrong_profile(work)))
        base_url = server.base_url
    assert crawl.exit_code in (0, 1), crawl.stderr
    (articles,) = query(home, "select count(*) from articles")[0]
    changing = run_reextract(home, "--dry-run").summary["changed"]
    assert changing > 100
    return Larger(home, site, base_url, articles, changing)


def reextracted(home: Path) -> int:
    return query(home, "select count(*) from article_versions where cause = 'reextract'")[0][0]


def stop_inside_a_run(larger: Larger, home: Path, signum: int) -> subprocess.CompletedProcess[str]:
    """Copy the archive to `home`, start a run in small batches and send it `signum` once
    its first batch committed. On a busy machine the whole run can end before the signal
    is sent: then it is tried again on a fresh copy (at most three times)."""
    for _attempt in range(3):
        if home.exists():
            shutil.rmtree(home)
        shutil.copytree(larger.home, home)
        process = subprocess.Popen(
            reextract_command(home, "--batch", "10"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None and not reextracted(home):
            time.sleep(0.005)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
        if reextracted(home) < larger.changing:
            break
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def check_complete(larger: Larger, home: Path) -> None:
    """Each article changing has exactly one reextract version, the latest; verify passes."""
    rows = query(
        home,
        "select count(*), sum(cause = 'reextract'), sum(is_latest), max(number)"
        " from article_versions group by article_id",
    )
    assert len(rows) == larger.articles
    assert sum(reextracted for _c, reextracted, _l, _n in rows) == larger.changing
    assert all(latest == 1 and count == number <= 2 for count, _r, latest, number in rows)
    assert_exact(records(home), larger.site, larger.base_url)
    code, out = cli("verify", "--home", str(home))
    assert code == 0, out


def test_a_run_killed_with_sigkill_and_run_again_loses_and_duplicates_nothing(larger, tmp_path):
    home = tmp_path / "home"
    killed = stop_inside_a_run(larger, home, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    written = reextracted(home)  # what the killed run committed
    assert 0 < written < larger.changing, "the kill did not fall inside the run"
    again = run_reextract(home)
    assert again.code == 0, again.stderr
    assert again.summary["written"] == larger.changing - written
    check_complete(larger, home)


def test_sigterm_stops_after_the_page_in_hand_with_what_was_written_committed(larger, tmp_path):
    home = tmp_path / "home"
    stopped = stop_inside_a_run(larger, home, signal.SIGTERM)
    assert stopped.returncode == 1, stopped.stderr
    assert stopped.stdout.startswith("stopped: reextract, ")
    assert "run it again to go on" in stopped.stdout
    written = reextracted(home)
    assert 0 < written < larger.changing
    assert f"stopped: reextract, {written} new versions" in stopped.stdout
    again = run_reextract(home)
    assert again.code == 0 and again.summary["written"] == larger.changing - written
    check_complete(larger, home)
