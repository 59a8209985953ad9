"""The pieces a fleet that loses nothing is built of, each alone: the frontier the archive
keeps (what a fleet run queued and finished), what an incremental crawl makes of an
unfinished walk, the leases in Redis (put back atomically and once), and a worker's book
of the requests it holds. Real SQLite files and the machine's Redis; seconds in all."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request

from archive.read.frontier import interrupted_walk, open_frontier_session
from archive.store.home import ArchiveHome
from archive.store.writer import ArchiveWriter
from archive.store.writer.fleet import DONE, PAGE, QUEUED, WALK, FrontierRequest
from chalco_crawler.fleet import Fleet
from chalco_crawler.fleet_leases import Lease, LeaseBook
from tests.fleet_workers import shared_redis_url


def entry(url: str, kind: str = PAGE) -> FrontierRequest:
    return FrontierRequest(f"fp-{url}", kind, url, f"request {url}".encode())


def fleet_run(home: ArchiveHome, fleet: str, notes: list[tuple[str, FrontierRequest]]) -> int:
    """A worker's run in a fleet run of its own, with these frontier notes, ended ok."""
    writer = ArchiveWriter(home)
    fleet_run_id = writer.join_fleet_run(fleet, uuid.uuid4().hex)
    writer.start_run(site="chalco", base_url="http://site/", mode="incremental")
    for state, note in notes:
        writer.note_frontier(state, note)
    writer.finish_run("ok", 0, {"close_reason": "finished"})
    writer.close()
    return fleet_run_id


def test_the_frontier_tells_what_a_fleet_run_left_unfinished_and_the_next_takes_it(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    first = fleet_run(
        home,
        "f",
        [
            (QUEUED, entry("/", WALK)),
            (QUEUED, entry("/list_1.html", WALK)),
            (QUEUED, entry("/a.html")),
            (QUEUED, entry("/a.html")),  # queued twice (after Redis lost it): one request
            (DONE, entry("/")),
            (DONE, entry("/a.html")),
        ],
    )
    writer = ArchiveWriter(home)
    writer.join_fleet_run("f", uuid.uuid4().hex)
    carried = writer.carry_over("f")
    assert [(e.url, e.kind, e.request) for e in carried] == [
        ("/list_1.html", WALK, b"request /list_1.html")
    ]
    assert writer.unfinished_requests() == carried  # now this fleet run's to finish
    assert writer.unfinished_requests([first]) == carried  # and still the first's record
    assert writer.carry_over("f") == []  # taken over once
    writer.close()


def test_an_incremental_crawl_walks_every_list_page_while_a_fleet_walk_is_unfinished(tmp_path):
    """The workers of a fleet run may all have said ok (they did before issue 22 when Redis
    lost the queue): the frontier's unfinished list page still makes the next incremental
    crawl walk every list page, until a crawl started after it has walked to the end."""
    home = ArchiveHome.at(tmp_path / "home")
    fleet_run(home, "f", [(QUEUED, entry("/list_1.html", WALK)), (QUEUED, entry("/a.html"))])
    with open_frontier_session(home) as session:
        assert interrupted_walk(session, "chalco")
    fleet_run(home, "f", [(QUEUED, entry("/list_1.html", WALK)), (DONE, entry("/list_1.html"))])
    with open_frontier_session(home) as session:
        assert not interrupted_walk(session, "chalco")


def test_an_unfinished_page_alone_does_not_make_the_walk_unfinished(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    fleet_run(home, "f", [(QUEUED, entry("/a.html"))])
    with open_frontier_session(home) as session:
        assert not interrupted_walk(session, "chalco")
    own = fleet_run(home, "g", [(QUEUED, entry("/list_1.html", WALK))])
    with open_frontier_session(home) as session:
        assert interrupted_walk(session, "chalco")
        # The asking worker's own fleet run, still walking, is no earlier crawl.
        assert not interrupted_walk(session, "chalco", fleet_run=own)


@pytest.fixture
def redis_url() -> str:
    return shared_redis_url()


def test_a_lapsed_workers_leases_go_back_to_the_queue_once_as_they_were(redis_url):
    name = f"leases-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    holder, first, second = (Fleet(redis_url, name, w, ttl=5) for w in ("x", "y", "z"))
    holder.join()
    first.join()
    second.join()
    try:
        holder.redis.zadd(holder.queue_key, {b"list page": -10.5, b"article": -0.25})
        leased = [holder.pop(holder.queue_key), holder.pop(holder.queue_key)]
        assert [request for _lease, request in leased] == [b"list page", b"article"]
        holder.release([leased[1][0]])  # the article committed; the list page not
        assert first.return_lapsed_leases() == {}  # x is alive: it keeps its leases
        holder.redis.delete(holder.worker_key("x"))  # its heartbeat lapses (killed)
        assert not first.drained()  # a lease is outstanding
        returned = [first.return_lapsed_leases(), second.return_lapsed_leases()]
        assert sorted(returned, key=len) == [{}, {"x": 1}]  # once, by one of them
        assert holder.redis.zrange(holder.queue_key, 0, -1, withscores=True) == [
            (b"list page", -10.5)
        ]
        assert first.requeued() == {"x": 1}
        first.redis.delete(first.queue_key)
        assert first.drained() is False  # z is busy (joined, not idle yet)
        second.beat("idle")
        assert first.drained()
    finally:
        for fleet in (first, second):
            fleet.leave()


def test_a_workers_book_releases_a_lease_only_after_the_commit_that_follows_its_end():
    book = LeaseBook()
    list_page, article = Request("http://site/list.html"), Request("http://site/a.html")
    book.take(Lease("1", "fp1", WALK, list_page))
    book.take(Lease("2", "fp2", PAGE, article))
    assert book.settle({list_page, article}) == []  # both in progress
    settled = book.settle({article})
    assert [lease.id for lease in settled] == ["1"] and book.written == 1
    assert book.committed() == ["1"]  # the commit after it: released
    book.released()
    book.hand_back(book.lease_of(article))  # a retry: back in the queue as it was
    assert len(book) == 0 and book.uncommitted() == []


def test_frontier_rows_wait_for_the_batch_and_go_with_a_rolled_back_one(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    writer = ArchiveWriter(home)
    writer.join_fleet_run("f", "generation")
    writer.start_run(site="chalco", base_url="http://site/", mode="full")
    writer.note_frontier(QUEUED, entry("/lost.html"))
    writer._forget_batch()  # as a failed write rolls the batch back
    writer.note_frontier(QUEUED, entry("/kept.html"))
    assert [e.url for e in writer.unfinished_requests()] == ["/kept.html"]
    writer.finish_run("ok", 0, {"at": datetime.now(UTC).isoformat()})
    writer.close()
    assert Path(home.database_path).exists()
