"""The archive on PostgreSQL: the same migrations, the same crawl, and the same answers from
export, search, snapshot, versions and verify as on SQLite. Runs against the real server on
127.0.0.1:5432; skipped with the reason when there is none, unless CHALCO_REQUIRE_SERVICES
is set (CI sets it), which turns the skip into a failure."""

from __future__ import annotations

import json
import shutil
from urllib.parse import urlsplit

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine

from archive.cli import main
from archive.store.db import _alembic_config
from tests.conftest import article_content, postgresql_database, run_crawl


@pytest.fixture(scope="module")
def database_url():
    with postgresql_database() as url:
        yield url


@pytest.fixture(scope="module")
def pg_home(database_url, replica, tmp_path_factory, monkeypatch_module):
    home = tmp_path_factory.mktemp("pg") / "home"
    monkeypatch_module.setenv("CHALCO_ARCHIVE_DB", database_url)
    result = run_crawl(home, replica.base_url)
    assert result.exit_code == 0, result.stderr  # the replica's deliberate 404: a dead link
    assert result.summary["dead"] == 1
    return home


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


def records(*args: str) -> dict[str, dict]:
    code, out = cli(*args)
    assert code == 0, out
    return {r["url"]: r for r in map(json.loads, out.splitlines())}


def comparable(record: dict) -> dict:
    """What must be equal between the two databases (not the times of the two crawls)."""
    return {k: v for k, v in record.items() if k not in ("first_seen", "last_seen", "snapshot")}


def test_the_same_crawl_gives_the_same_archive_as_on_sqlite(pg_home, crawled):
    on_postgresql = records("export", "--home", str(pg_home))
    on_sqlite = records(
        "--db", f"sqlite:///{crawled.home}/archive.sqlite3", "export", "--home", str(crawled.home)
    )
    assert set(on_postgresql) == set(on_sqlite)
    for url, record in on_postgresql.items():
        assert comparable(record) == comparable(on_sqlite[url]), url
        assert record["snapshot"]["sha256"] == on_sqlite[url]["snapshot"]["sha256"]


@pytest.mark.parametrize("query", ["铝", "中铝", "职工代表", "中铝 会议", "AND (", "无此词语"])
def test_search_on_postgresql_finds_exactly_the_articles_containing_the_text(pg_home, query):
    found = records("search", query, "--home", str(pg_home), "--limit", "0", "--format", "jsonl")
    expected = {
        url
        for url, r in records("export", "--home", str(pg_home)).items()
        if all(word in (r["title"] or "") + "\n" + (r["body"] or "") for word in query.split())
    }
    assert set(found) == expected


def test_snapshot_versions_and_verify_work_on_postgresql(pg_home, replica, replica_site):
    url = replica.base_url + "xwdt/gsyw/202602/t20260204_163644.html"
    result = CliRunner().invoke(main, ["snapshot", url, "--home", str(pg_home)])
    host = urlsplit(replica.base_url).netloc
    assert (
        result.stdout_bytes
        == replica_site.render("/xwdt/gsyw/202602/t20260204_163644.html", host)[2]
    )
    code, out = cli("versions", url, "--home", str(pg_home), "--format", "jsonl")
    assert code == 0 and [json.loads(line)["version"] for line in out.splitlines()] == [1]
    code, out = cli("verify", "--home", str(pg_home))
    assert code == 0, out
    assert out.startswith("ok:")
    assert "by its seal" in out or "by their seals" in out  # the crawl sealed its files


def test_migrate_db_copies_an_sqlite_archive_that_then_verifies(crawled, tmp_path):
    home = tmp_path / "home"  # migrate-db marks the home: not the shared one
    shutil.copytree(crawled.home, home)
    with postgresql_database() as url:
        sqlite_url = f"sqlite:///{home}/archive.sqlite3"
        code, out = cli("--db", sqlite_url, "migrate-db", "--home", str(home), "--to", url)
        assert code == 0, out
        assert out.startswith("copied ")
        code, out = cli("--db", url, "verify", "--home", str(home))
        assert code == 0, out
        assert "by its seal" in out or "by their seals" in out  # the seals were copied
        code, head_after = cli("--db", url, "verify", "--home", str(home), "--ledger-head")
        code, head_before = cli("--db", sqlite_url, "verify", "--home", str(home), "--ledger-head")
        assert head_after == head_before
        migrated = records("--db", url, "export", "--home", str(home))
        original = records("--db", sqlite_url, "export", "--home", str(home))
        assert migrated == original
        again = CliRunner().invoke(
            main, ["--db", url, "migrate-db", "--home", str(home), "--to", url]
        )
        assert again.exit_code == 1 and "already holds" in again.stderr


def test_the_analyst_views_answer_on_postgresql(pg_home, database_url):
    psycopg = pytest.importorskip("psycopg")
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as db:
        articles = db.execute("select count(*) from articles").fetchone()[0]
        rows = db.execute(
            "select url, sections, version, snapshot_sha256 from latest_articles"
            " where site = 'chalco'"
        ).fetchall()
        assert len(rows) == articles
        assert all(sections and version == 1 and sha for _url, sections, version, sha in rows)
        runs = db.execute("select mode, new, failed, dead from crawl_run_summary").fetchall()
        assert runs == [("incremental", articles, 0, 1)]  # the replica's 404: a dead link
        oversize = db.execute("select count(*) from capture_log where oversize").fetchone()[0]
        assert oversize == 0
        for view in ("article_sections", "article_files", "capture_log"):
            assert db.execute(f"select count(*) from {view}").fetchone()[0] > 0


def test_search_on_postgresql_sees_each_articles_latest_version(tmp_path):
    """Articles at different version numbers: each is searched in its own latest version."""
    pytest.importorskip("psycopg")
    from datetime import UTC, datetime

    from sqlalchemy import create_engine

    from archive.read.search import search
    from archive.store.home import ArchiveHome
    from archive.store.warcstore import HttpExchange
    from archive.store.writer import ArchiveWriter

    with postgresql_database() as url:
        writer = ArchiveWriter(ArchiveHome.at(tmp_path / "home", url))
        writer.start_run("chalco", "http://x/", "full")
        now = datetime.now(UTC)
        capture = writer.record_exchange(
            HttpExchange(
                url="http://x/a.html",
                method="GET",
                request_headers=[],
                status=200,
                protocol="HTTP/1.1",
                response_headers=[],
                payload=b"<html></html>",
                fetched_at=now,
            )
        )

        def save(page: str, body: str) -> None:
            writer.save_article(
                article_content(page, body, published="2026-02-03"),
                capture.id,
                now,
            )

        save("http://x/one.html", "旧的铝土矿")
        save("http://x/one.html", "新的氧化铝")  # version 2 of one
        save("http://x/two.html", "只有一版的氧化铝")  # version 1 of two
        # Longer than a tsvector can position: found by scanning, still exactly.
        save("http://x/long.html", "电解铝" * 7000 + "镓锗回收")
        writer.close()
        engine = create_engine(url)
        with engine.connect() as connection:
            assert {h.url for h in search(connection, "氧化铝", limit=None)} == {
                "http://x/one.html",
                "http://x/two.html",
            }
            assert [h.url for h in search(connection, "铝土矿", limit=None)] == []
            assert [h.url for h in search(connection, "镓锗", limit=None)] == ["http://x/long.html"]
            assert [h.url for h in search(connection, "锗回", limit=None)] == ["http://x/long.html"]
            assert [
                h.version for h in search(connection, "铝土矿", limit=None, all_versions=True)
            ] == [1]
        engine.dispose()


def test_migrate_db_copies_an_archive_of_an_older_schema(crawled, tmp_path):
    """A home last written by an older release (here: before migration 0010) is brought up
    to date first, as its next crawl would, instead of failing on a missing column."""
    home = tmp_path / "home"
    shutil.copytree(crawled.home, home)
    sqlite_url = f"sqlite:///{home}/archive.sqlite3"
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        config = _alembic_config(sqlite_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    engine.dispose()
    with postgresql_database() as url:
        code, out = cli("--db", sqlite_url, "migrate-db", "--home", str(home), "--to", url)
        assert code == 0, out
        code, out = cli("--db", url, "verify", "--home", str(home))
        assert code == 0, out


def test_a_reader_on_postgresql_sees_one_state_for_its_whole_session(tmp_path):
    """As on SQLite (test_recovery): verify's queries must not see a crawl's later commits."""
    pytest.importorskip("psycopg")
    from datetime import UTC, datetime

    from sqlalchemy import text

    from archive.store.db import open_reader, session_factory
    from archive.store.home import ArchiveHome
    from archive.store.warcstore import HttpExchange
    from archive.store.writer import ArchiveWriter

    def fetch(writer: ArchiveWriter, url: str) -> None:
        writer.record_exchange(
            HttpExchange(url, "GET", [], 200, "HTTP/1.1", [], url.encode(), datetime.now(UTC))
        )
        writer.commit()

    with postgresql_database() as url:
        home = ArchiveHome.at(tmp_path / "home", url)
        writer = ArchiveWriter(home)
        writer.start_run("chalco", "http://x/", "full")
        fetch(writer, "http://x/a.html")
        engine = open_reader(home)
        count = text("select count(*) from captures")
        with session_factory(engine)() as session:
            assert session.execute(count).scalar_one() == 1
            fetch(writer, "http://x/b.html")
            assert session.execute(count).scalar_one() == 1
        with session_factory(engine)() as session:
            assert session.execute(count).scalar_one() == 2
        engine.dispose()
        writer.close()


def test_a_file_archived_by_another_worker_keeps_its_bytes(tmp_path):
    """Worker b read the file as failed; a archived it since. b's own fetch must not replace
    a's bytes (and ledger entry): b gets a's row, and verify passes."""
    pytest.importorskip("psycopg")
    from datetime import UTC, datetime

    from archive.evidence.verify import verify
    from archive.store.db import open_reader, session_factory
    from archive.store.home import ArchiveHome
    from archive.store.warcstore import HttpExchange
    from archive.store.writer import ArchiveWriter

    file_url = "http://h/f.pdf"

    def archive(writer: ArchiveWriter, body: bytes):
        capture = writer.record_exchange(
            HttpExchange(file_url, "GET", [], 200, "HTTP/1.1", [], body, datetime.now(UTC))
        )
        saved = writer.save_file(
            url=file_url,
            kind="attachment",
            seen_at=datetime.now(UTC),
            capture_id=capture.id,
            status=200,
            sha256=capture.content_sha256,
            size=len(body),
        )
        writer.commit()
        return saved

    with postgresql_database() as url:
        home = ArchiveHome.at(tmp_path / "home", url)
        a, b = ArchiveWriter(home, worker="a"), ArchiveWriter(home, worker="b")
        for writer in (a, b):
            writer.start_run("chalco", "http://h/", "full")
        a.save_file(
            url=file_url, kind="attachment", seen_at=datetime.now(UTC), status=500, problem="500"
        )
        a.commit()
        b_view = b.file_by_url(file_url)
        assert b_view is not None and b_view.sha256 is None
        first = archive(a, b"A")
        second = archive(b, b"B")
        assert second.sha256 == first.sha256 and second.capture_id == first.capture_id
        for writer in (a, b):
            writer.finish_run("ok", 0, {})
            writer.close()
        engine = open_reader(home)
        with session_factory(engine)() as session:
            report = verify(session, home)
        engine.dispose()
        assert report.ok, [problem.line() for problem in report.problems]


def test_after_migrate_db_the_old_sqlite_file_is_not_used_unasked(
    crawled, replica, tmp_path, monkeypatch
):
    """A cron line without --db must not go on crawling into the copied SQLite file (the
    archive would split in two), and a crawl on that file, asked for, must not cut back the
    files of the PostgreSQL archive's runs, which it does not know."""
    monkeypatch.delenv("CHALCO_ARCHIVE_DB", raising=False)  # pg_home's module-wide setting
    home = tmp_path / "home"
    shutil.copytree(crawled.home, home)
    with postgresql_database() as url:
        sqlite_url = f"sqlite:///{home}/archive.sqlite3"
        code, out = cli("--db", sqlite_url, "migrate-db", "--home", str(home), "--to", url)
        assert code == 0, out
        assert "password" not in out and "pass --db" in out

        result = CliRunner().invoke(main, ["verify", "--home", str(home)])
        assert result.exit_code == 1
        assert "copied to postgresql+psycopg://" in result.stderr and "--db" in result.stderr
        unasked = run_crawl(home, replica.base_url)
        assert unasked.exit_code == 4 and "migrate-db" in unasked.stderr

        monkeypatch.setenv("CHALCO_ARCHIVE_DB", url)
        on_postgresql = run_crawl(home, replica.base_url, "--full", "--sections", "tzzgx/thygg")
        assert on_postgresql.exit_code == 0, on_postgresql.stderr
        monkeypatch.setenv("CHALCO_ARCHIVE_DB", sqlite_url)
        on_sqlite = run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg")
        assert on_sqlite.exit_code == 0, on_sqlite.stderr
        assert on_sqlite.summary["recovery"]["foreign"], on_sqlite.summary
        assert on_sqlite.summary["recovery"]["set_aside"] == []

        # The PostgreSQL archive is intact; the SQLite crawl's own new file is the only
        # thing it does not know.
        code, out = cli("--db", url, "verify", "--home", str(home))
        problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
        assert len(problems) == 1 and "WARC file not in the database" in problems[0], out


def test_a_package_of_an_archive_on_postgresql_checks_clean(pg_home, tmp_path):
    """The tree, its head and the package's proofs on PostgreSQL; `attest` there too."""
    from tests.tsa_authority import TimeStampAuthority

    with TimeStampAuthority(tmp_path / "tsa") as tsa:
        code, out = cli("attest", "--home", str(pg_home), "--tsa-url", tsa.url)
        assert code == 0, out
        output = tmp_path / "pg.wacz"
        code, out = cli(
            "package", "--home", str(pg_home), "--since", "2000-01-01", "-o", str(output)
        )
        assert code == 0, out
        code, out = cli("check-package", str(output), "--tsa-ca", str(tsa.ca_pem))
        assert code == 0, out
        code, out = cli("verify", "--home", str(pg_home), "--tsa-ca", str(tsa.ca_pem))
        assert code == 0, out
        assert ", 1 timestamped (the first" in out
