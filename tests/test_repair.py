"""`repair` over real HTTP: a WARC file cut to two thirds and a record with flipped bytes are
found by verify, fetched again from the replica and stored whole, each loss on record; then
verify passes with a note per loss and snapshot serves the replacement, saying so. A capture
the site no longer serves stays a problem. A crawl after the damage never stores a revisit
pointing at a record known bad."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chalco_crawler.settings import USER_AGENT
from replica.server import ReplicaServer
from replica.site.build import build_site
from replica.site.responses import Response
from tests.conftest import FAST, run_crawl


class WithholdingReplica(ReplicaServer):
    """The replica, answering 404 for the paths in `withheld`: pages the site no longer
    serves."""

    withheld: set[str]

    def respond(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        if urlsplit(target).path in self.withheld:
            return 404, {"Content-Type": "text/html; charset=utf-8"}, b"<h1>404</h1>"
        return super().respond(method, target, headers)


@pytest.fixture(scope="module")
def server() -> Iterator[WithholdingReplica]:
    with WithholdingReplica(build_site()) as running:
        running.withheld = set()
        yield running


@pytest.fixture(scope="module")
def pristine(server, tmp_path_factory) -> Path:
    """The replica crawled, then again with --full: every unchanged page a revisit."""
    home = tmp_path_factory.mktemp("repair") / "home"
    for extra in ((), ("--full",)):
        result = run_crawl(home, server.base_url, *extra)
        assert result.exit_code == 0, result.stderr
    return home


@pytest.fixture
def home(pristine, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(pristine, copy)
    return copy


def chalco_archive(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=180,
    )


def repair(home: Path) -> subprocess.CompletedProcess[str]:
    return chalco_archive("repair", "--home", str(home), *FAST)


def verify(home: Path) -> subprocess.CompletedProcess[str]:
    return chalco_archive("verify", "--home", str(home))


def query(home: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(home / "archive.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def first_warc_file(home: Path) -> Path:
    (name,) = query(home, "select name from warc_files order by id limit 1")[0]
    return home / "warc" / name


def damage(home: Path) -> tuple[int, str]:
    """Cut the first crawl's WARC file to two thirds, and flip a byte in the middle of an
    article page's record in its first half; that capture's id and URL."""
    path = first_warc_file(home)
    size = path.stat().st_size
    flipped_id, url, middle = query(
        home,
        "select c.id, c.url, c.offset + c.length / 2 from captures c"
        " join warc_files w on w.id = c.warc_file_id where w.name = ?"
        " and c.record_type = 'response' and c.status = 200 and c.media_type like 'text/html%'"
        " and c.offset + c.length < ? order by c.offset desc limit 1",
        path.name,
        size // 2,
    )[0]
    data = bytearray(path.read_bytes()[: size * 2 // 3])
    data[middle] ^= 0x10
    path.write_bytes(bytes(data))
    return flipped_id, url


def snapshot(home: Path, url: str, at: str) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """What `snapshot --at` says, and the bytes it wrote."""
    target = home.parent / "snapshot.html"
    done = chalco_archive("snapshot", url, "--home", str(home), "--at", at, "-o", str(target))
    return done, target.read_bytes() if target.exists() else b""


def test_repair_makes_the_archive_whole_and_keeps_each_loss_on_record(home, server):
    flipped_id, url = damage(home)
    ((original_at,),) = query(home, "select fetched_at from captures where id = ?", flipped_id)
    broken = verify(home)
    assert broken.returncode == 1
    assert f"PROBLEM capture {flipped_id}" in broken.stdout
    lost = sorted(
        {
            int(line.split()[2].rstrip(":"))
            for line in broken.stdout.splitlines()
            if " capture " in line
        }
    )
    assert flipped_id in lost and len(lost) > 20  # the cut-off third, and its revisits

    start = len(server.requests)
    done = repair(home)
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.splitlines()[0].startswith(
        f"ok: repair, {len(lost)} of {len(lost)} damaged capture(s) replaced, 0 not repaired"
    )
    fetched = server.requests[start:]
    assert fetched[0].path == "/robots.txt"  # asked first, and obeyed
    assert {entry.headers.get("User-Agent") for entry in fetched} == {USER_AGENT}
    assert url in {server.base_url.rstrip("/") + entry.path for entry in fetched}

    whole = verify(home)
    assert whole.returncode == 0, whole.stdout
    assert whole.stdout.startswith("ok:")
    notes = [line for line in whole.stderr.splitlines() if "acknowledged loss of capture" in line]
    assert len(notes) == len(lost)  # each loss, named
    assert any(
        line.startswith(f"note: acknowledged loss of capture {flipped_id}, {url}") for line in notes
    )
    assert f"every other record in it whole: {first_warc_file(home).name}" in whole.stderr
    # The loss is on record in the ledger: an entry for each, naming lost and replacement.
    losses = query(home, "select capture_id, replacement_id from capture_losses order by 1")
    assert [capture_id for capture_id, _ in losses] == lost
    assert query(home, "select count(*) from ledger where kind = 'capture_loss'") == [(len(lost),)]
    (replacement_id,) = [r for c, r in losses if c == flipped_id]
    assert query(home, "select record_type, url from captures where id = ?", replacement_id) == [
        ("response", url)  # stored whole, never a revisit
    ]

    served, content = snapshot(home, url, original_at)
    assert served.returncode == 0, served.stderr
    assert f"note: the original capture of {url} ({original_at}) was lost" in served.stderr
    assert "this is its replacement, fetched again from the site" in served.stderr
    page = server.site.render(urlsplit(url).path, urlsplit(url).netloc)
    assert page is not None and content == page[2]  # the page's very bytes


def test_a_capture_the_site_no_longer_serves_stays_a_problem(home, server):
    flipped_id, url = damage(home)
    server.withheld.add(urlsplit(url).path)
    try:
        done = repair(home)
    finally:
        server.withheld.clear()
    assert done.returncode == 1, done.stderr
    assert (
        f"  not repaired: capture {flipped_id}, {url}: the site answered 404, not 200 as when"
        " it was captured" in done.stdout.splitlines()
    )
    assert query(home, "select count(*) from capture_losses where capture_id = ?", flipped_id) == [
        (0,)
    ]
    still = verify(home)
    assert still.returncode == 1
    problems = [line for line in still.stdout.splitlines() if line.startswith("PROBLEM")]
    assert [line for line in problems if " capture " in line] == [
        line for line in problems if f"capture {flipped_id}" in line or f" {flipped_id}," in line
    ]
    # Served again, the next repair makes the archive whole.
    assert repair(home).returncode == 0
    assert verify(home).returncode == 0


def test_a_full_crawl_after_damage_never_points_a_revisit_at_a_lost_record(home, server):
    damage(home)
    (last_run,) = query(home, "select max(id) from crawl_runs")[0]
    damaged = {
        int(line.split()[2].rstrip(":"))
        for line in verify(home).stdout.splitlines()
        if line.startswith("PROBLEM capture ")
    }
    assert damaged
    result = run_crawl(home, server.base_url, "--full")
    assert result.exit_code == 0, result.stderr
    new = query(
        home,
        "select id, url, record_type, refers_to_id from captures where run_id > ?",
        last_run,
    )
    assert not [row for row in new if row[3] in damaged]  # no revisit of a lost record
    ids = ",".join(map(str, damaged))
    damaged_urls = {u for (u,) in query(home, f"select url from captures where id in ({ids})")}
    stored_whole = {url for _, url, kind, _ in new if kind == "response"}
    assert damaged_urls & {url for _, url, _, _ in new} <= stored_whole
    # The new run's own captures are whole: verify names only the old ones.
    after = verify(home)
    named = {
        int(line.split()[2].rstrip(":"))
        for line in after.stdout.splitlines()
        if line.startswith("PROBLEM capture ")
    }
    assert named == damaged
