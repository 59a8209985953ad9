"""An attachment replaced at the same URL: a revisit finds the new bytes and gives every
article naming the file a new version that names them; the older version keeps naming the
old bytes, which stay retrievable. Later versions go on naming the new bytes."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from w3lib.url import safe_url_string

from archive.cli import main
from archive.evidence.verify import verify
from archive.read.articles import get_article, iter_articles
from archive.read.captures import get_snapshot
from archive.read.search import search
from archive.store.db import open_reader, open_writer, session_factory
from archive.store.home import ArchiveHome
from archive.store.ledger import chain
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import FileLink
from replica.server import ReplicaServer
from replica.site.build import build_site
from tests.conftest import CrawlResult, article_content, postgresql_database, run_crawl


@dataclass
class Replaced:
    home: Path
    base_url: str
    path: str
    """URL path of the replaced attachment."""
    old: bytes
    new: bytes
    naming: list[str]
    """URL paths of the articles that name it."""
    live: int
    """How many live articles the site has."""
    revisit: CrawlResult
    second_revisit: CrawlResult
    edited_revisit: CrawlResult


@pytest.fixture(scope="module")
def replaced(tmp_path_factory) -> Replaced:
    site = build_site()
    with ReplicaServer(site) as server:
        home = tmp_path_factory.mktemp("home")
        first = run_crawl(home, server.base_url)
        assert first.exit_code in (0, 1), first.stderr
        article = next(a for a in site.live_articles() if a.attachments)
        path = article.attachments[0].url_path
        naming = [
            a.url_path
            for a in site.live_articles()
            if any(f.url_path == path for f in a.attachments + a.images)
        ]
        old = site.file_bytes(path)
        new = old + b"\n% corrected and uploaded again under the same name\n"
        site.replace_file(path, new)
        revisit = run_crawl(home, server.base_url, "--revisit")
        second_revisit = run_crawl(home, server.base_url, "--revisit")
        # The page itself is edited later: its next version still names the new bytes.
        site.advance(new_articles={}, edit=article.url_path)
        edited_revisit = run_crawl(home, server.base_url, "--revisit")
        return Replaced(
            home,
            server.base_url,
            path,
            old,
            new,
            naming,
            len(site.live_articles()),
            revisit,
            second_revisit,
            edited_revisit,
        )


@pytest.fixture(scope="module")
def session(replaced):
    engine = open_reader(ArchiveHome.at(replaced.home))
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment_digests(record: dict, url: str) -> list[str]:
    return [a["sha256"] for a in record["attachments"] if a["url"] == url]


def test_a_changed_attachment_makes_version_2_of_each_article_naming_it(replaced, session):
    assert replaced.revisit.exit_code == 0, replaced.revisit.stderr
    assert replaced.revisit.summary["updated"] == len(replaced.naming)
    # Each article once: the changed ones' pages answered 304, yet they count as updated.
    counted = replaced.revisit.summary["updated"] + replaced.revisit.summary["unchanged"]
    assert counted == replaced.live
    file_url = replaced.base_url + replaced.path.lstrip("/")
    for path in replaced.naming[1:]:
        view = get_article(session, replaced.base_url + path.lstrip("/"))
        assert [v.number for v in view.versions] == [1, 2]
    first = get_article(session, replaced.base_url + replaced.naming[0].lstrip("/"), 1)
    second = get_article(session, replaced.base_url + replaced.naming[0].lstrip("/"), 2)
    assert attachment_digests(first.record, file_url) == [sha(replaced.old)]
    assert attachment_digests(second.record, file_url) == [sha(replaced.new)]
    new_size = [a["size"] for a in second.record["attachments"] if a["url"] == file_url]
    assert new_size == [len(replaced.new)]
    # The page did not change: the new version carries its fields and shows the same page.
    for field in ("title", "source", "published", "body", "images"):
        assert second.record[field] == first.record[field], field
    assert second.record["snapshot"]["sha256"] == first.record["snapshot"]["sha256"]


def test_both_sets_of_bytes_stay_retrievable(replaced, session):
    home = ArchiveHome.at(replaced.home)
    file_url = replaced.base_url + replaced.path.lstrip("/")
    assert get_snapshot(session, home, file_url).content == replaced.new
    first_capture = session.execute(
        text("SELECT min(fetched_at) FROM captures WHERE url = :url AND status = 200"),
        {"url": file_url},
    ).scalar_one()
    at = datetime.fromisoformat(first_capture)
    assert get_snapshot(session, home, file_url, at=at).content == replaced.old


def test_the_view_shows_each_version_its_own_bytes(replaced, session):
    file_url = replaced.base_url + replaced.path.lstrip("/")
    article_url = replaced.base_url + replaced.naming[0].lstrip("/")
    rows = session.execute(
        text(
            "SELECT version, sha256, size FROM article_files"
            " WHERE article_url = :article AND url = :url ORDER BY version"
        ),
        {"article": article_url, "url": file_url},
    ).all()
    assert rows[:2] == [
        (1, sha(replaced.old), len(replaced.old)),
        (2, sha(replaced.new), len(replaced.new)),
    ]


def test_a_second_revisit_adds_no_version(replaced):
    assert replaced.second_revisit.exit_code == 0, replaced.second_revisit.stderr
    assert replaced.second_revisit.summary["updated"] == 0


def test_an_edited_page_goes_on_naming_the_new_bytes(replaced, session):
    assert replaced.edited_revisit.summary["updated"] == 1
    file_url = replaced.base_url + replaced.path.lstrip("/")
    records = {r["url"]: r for r in iter_articles(session)}
    latest = records[replaced.base_url + replaced.naming[0].lstrip("/")]
    assert latest["version"] == 3
    assert attachment_digests(latest, file_url) == [sha(replaced.new)]


def test_verify_passes(replaced):
    result = CliRunner().invoke(main, ["verify", "--home", str(replaced.home)])
    assert result.exit_code == 0, result.output


def test_diff_shows_the_replaced_attachment(replaced):
    article_url = replaced.base_url + replaced.naming[0].lstrip("/")
    result = CliRunner().invoke(
        main, ["diff", article_url, "--from", "1", "--to", "2", "--home", str(replaced.home)]
    )
    assert result.exit_code == 0, result.output
    changed = [line for line in result.output.splitlines() if line[:1] in "+-"]
    assert any(line.startswith("-附件") and sha(replaced.old) in line for line in changed)
    assert any(line.startswith("+附件") and sha(replaced.new) in line for line in changed)


# The writer alone, on SQLite and PostgreSQL ------------------------------------------------

T0 = datetime(2026, 2, 4, 1, 0, 0, tzinfo=UTC)


class Site:
    """Drives an ArchiveWriter as the pipeline does: exchanges, files, article pages."""

    def __init__(self, writer: ArchiveWriter):
        self.writer = writer
        self.clock = T0

    def now(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def exchange(self, url: str, payload: bytes, media_type: str) -> HttpExchange:
        # Sent as Scrapy sends it: percent-encoded; the archive's rows keep the page's URL.
        return HttpExchange(
            url=safe_url_string(url),
            method="GET",
            request_headers=[("User-Agent", "test")],
            status=200,
            protocol="HTTP/1.1",
            response_headers=[("Content-Type", media_type)],
            payload=payload,
            fetched_at=self.now(),
        )

    def fetch_file(self, url: str, payload: bytes, role: str = "attachment") -> None:
        info = self.writer.record_exchange(self.exchange(url, payload, "application/pdf"))
        self.writer.save_file(
            url=url,
            kind=role,
            seen_at=self.now(),
            capture_id=info.id,
            status=200,
            sha256=info.content_sha256,
            size=info.content_size,
            media_type=info.media_type,
        )

    def refetch(self, url: str, payload: bytes) -> int:
        info = self.writer.record_exchange(self.exchange(url, payload, "application/pdf"))
        return len(self.writer.note_file_fetched(url, info.id, info.content_sha256, self.now()))

    def page(self, url: str, body: str, files: list[tuple[str, str]]) -> str:
        page = f"<html><body>{body}</body></html>".encode()
        info = self.writer.record_exchange(self.exchange(url, page, "text/html"))
        links = tuple(FileLink(file_url, role, "附件") for file_url, role in files)
        content = article_content(url, body, published="2026-02-01", files=links)
        outcome, _version = self.writer.save_article(content, info.id, self.now())
        return outcome


def named_digests(session, article_url: str) -> list[tuple[int, str, str]]:
    """(version, role, sha256) of every file each version of the article names."""
    return [
        tuple(row)
        for row in session.execute(
            text(
                "SELECT version, role, sha256 FROM article_files WHERE article_url = :url"
                " ORDER BY version, role"
            ),
            {"url": article_url},
        )
    ]


def causes(session) -> dict[str, list[str]]:
    """Each article's versions' causes, in order."""
    found: dict[str, list[str]] = {}
    for url, cause in session.execute(
        text(
            "SELECT a.url, v.cause FROM article_versions v JOIN articles a"
            " ON a.id = v.article_id ORDER BY a.url, v.number"
        )
    ):
        found.setdefault(url, []).append(cause)
    return found


FILE = "http://h/附件 1.pdf"  # a Chinese name and a space: Scrapy sends it percent-encoded
OLD, NEW = b"%PDF-1.4 old" * 20, b"%PDF-1.4 new" * 20


def exercise(home: ArchiveHome) -> None:
    """Two articles name one file (one of them twice); a third article that names it is
    gone. The file changes, changes back, and a page edit follows."""
    writer = ArchiveWriter(home)
    site = Site(writer)
    writer.start_run("chalco", "http://h/", "full")
    site.fetch_file(FILE, OLD)
    assert site.page("http://h/a.html", "甲", [(FILE, "attachment"), (FILE, "image")]) == "new"
    assert site.page("http://h/b.html", "乙", [(FILE, "attachment")]) == "new"
    assert site.page("http://h/gone.html", "丙", [(FILE, "attachment")]) == "new"
    writer.mark_gone("http://h/gone.html", site.now())
    assert site.refetch(FILE, OLD) == 0  # the same bytes: nothing to do
    assert site.refetch(FILE, NEW) == 2  # a and b, not the gone article
    assert site.refetch(FILE, NEW) == 0
    assert site.page("http://h/b.html", "乙", [(FILE, "attachment")]) == "unchanged"
    assert site.page("http://h/b.html", "乙，修订", [(FILE, "attachment")]) == "updated"
    assert site.refetch(FILE, OLD) == 2  # back to the first bytes: named as the file's own
    writer.finish_run("ok", 0, {})
    writer.close()


def check(home: ArchiveHome) -> None:
    engine = open_reader(home)
    with session_factory(engine)() as session:
        old, new = sha(OLD), sha(NEW)
        assert named_digests(session, "http://h/a.html") == [
            (1, "attachment", old),
            (1, "image", old),
            (2, "attachment", new),
            (2, "image", new),
            (3, "attachment", old),
            (3, "image", old),
        ]
        assert named_digests(session, "http://h/b.html") == [
            (1, "attachment", old),
            (2, "attachment", new),
            (3, "attachment", new),  # the page's edit names the newest bytes
            (4, "attachment", old),
        ]
        assert named_digests(session, "http://h/gone.html") == [(1, "attachment", old)]
        assert causes(session) == {
            "http://h/a.html": ["crawl", "file", "file"],
            "http://h/b.html": ["crawl", "file", "crawl", "file"],
            "http://h/gone.html": ["crawl"],
        }
        latest = session.execute(
            text(
                "SELECT a.url, v.number FROM article_versions v"
                " JOIN articles a ON a.id = v.article_id WHERE v.is_latest ORDER BY a.url"
            )
        ).all()
        assert latest == [("http://h/a.html", 3), ("http://h/b.html", 4), ("http://h/gone.html", 1)]
        gone = session.execute(
            text("SELECT status, last_seen_at < gone_at FROM articles WHERE url = :url"),
            {"url": "http://h/gone.html"},
        ).one()
        assert gone == ("gone", True)
        hits = search(session, "修订")
        assert [(hit.url, hit.version) for hit in hits] == [("http://h/b.html", 4)]
        assert verify(session, home).ok
    engine.dispose()


def test_the_writer_names_each_versions_bytes_on_sqlite(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    exercise(home)
    check(home)


def test_the_writer_names_each_versions_bytes_on_postgresql(tmp_path):
    with postgresql_database() as url:
        home = ArchiveHome.at(tmp_path / "home", url)
        exercise(home)
        check(home)


def test_verify_sees_a_version_made_to_name_other_bytes(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    exercise(home)
    engine = open_writer(home)
    with engine.begin() as connection:
        connection.execute(text("UPDATE version_files SET capture_id = NULL"))
    engine.dispose()
    engine = open_reader(home)
    with session_factory(engine)() as session:
        report = verify(session, home)
    engine.dispose()
    assert not report.ok
    assert any("the files named by version" in problem.line() for problem in report.problems)


def test_two_workers_writing_one_articles_versions_both_go_on(tmp_path):
    """Worker A saves an edited page of an article while worker B finds a file it names
    changed: B waits for A's batch, then builds its version on A's."""
    with postgresql_database() as url:
        home = ArchiveHome.at(tmp_path / "home", url)
        first = ArchiveWriter(home, worker="first")
        first.start_run("chalco", "http://h/", "full")
        Site(first).fetch_file(FILE, OLD)
        Site(first).page("http://h/a.html", "甲", [(FILE, "attachment")])
        first.finish_run("ok", 0, {})
        first.close()

        slow = {"commit_every": 10**6, "commit_seconds": 3600.0}
        worker_a = ArchiveWriter(home, worker="a", **slow)
        worker_b = ArchiveWriter(home, worker="b", **slow)
        worker_a.start_run("chalco", "http://h/", "revisit")
        worker_b.start_run("chalco", "http://h/", "revisit")
        site_a, site_b = Site(worker_a), Site(worker_b)
        site_b.clock = T0 + timedelta(hours=1)
        assert site_a.page("http://h/a.html", "甲，修订", [(FILE, "attachment")]) == "updated"
        outcome: dict[str, object] = {}

        def file_changed() -> None:
            try:
                outcome["updated"] = site_b.refetch(FILE, NEW)
                worker_b.commit()
            except Exception as error:  # reported below
                outcome["error"] = error

        thread = threading.Thread(target=file_changed)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "B did not wait for A's batch"
        worker_a.commit()
        thread.join(30)
        assert "error" not in outcome, outcome
        assert outcome["updated"] == 1
        for writer in (worker_a, worker_b):
            writer.finish_run("ok", 0, {})
            writer.close()
        check_home = ArchiveHome.at(tmp_path / "home", url)
        engine = open_reader(check_home)
        with session_factory(engine)() as session:
            assert named_digests(session, "http://h/a.html") == [
                (1, "attachment", sha(OLD)),
                (2, "attachment", sha(OLD)),
                (3, "attachment", sha(NEW)),
            ]
            assert verify(session, check_home).ok
        engine.dispose()


def test_an_archive_from_before_causes_gets_them_from_migration_0014(tmp_path):
    """Versions written before 0014 are `crawl`, or `file` where a changed file made them
    (such a version keeps the digest of the one before); the ledger covers them after."""
    home = ArchiveHome.at(tmp_path / "home")
    exercise(home)
    connection = sqlite3.connect(home.database_path)
    # The archive as the older release left it: no such columns, no such entries.
    connection.execute("delete from ledger where kind in ('version_cause', 'tree_head')")
    for statement in (  # nor what migration 0018 added
        "drop table ledger_nodes",
        "drop table ledger_heads",
        "drop index ix_ledger_kind_ref_id",
        "alter table ledger drop column position",
    ):
        connection.execute(statement)
    head = "0" * 64
    for entry_id, digest in connection.execute(
        "select id, digest from ledger order by id"
    ).fetchall():
        head = chain(head, digest)
        connection.execute("update ledger set entry_hash = ? where id = ?", (head, entry_id))
    connection.execute("alter table article_versions drop column extractor_version")
    connection.execute("alter table article_versions drop column cause")
    connection.execute("update alembic_version set version_num = '0013'")
    connection.commit()
    connection.close()
    open_writer(home).dispose()  # what the next crawl does first
    engine = open_reader(home)
    with session_factory(engine)() as session:
        assert causes(session) == {
            "http://h/a.html": ["crawl", "file", "file"],
            "http://h/b.html": ["crawl", "file", "crawl", "file"],
            "http://h/gone.html": ["crawl"],
        }
        assert (
            session.execute(
                text("SELECT count(*) FROM article_versions WHERE extractor_version IS NOT NULL")
            ).scalar()
            == 0
        )
        assert verify(session, home).ok
    engine.dispose()
