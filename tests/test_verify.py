"""verify: an undamaged archive passes; each kind of damage is found, named, exit code 1."""

from __future__ import annotations

import importlib
import io
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from archive.cli import main
from archive.evidence.findings import Progress, VerifyReport
from archive.evidence.verify import verify as run_verify
from archive.evidence.verify_progress import TerminalProgress
from archive.store.db import open_reader, open_writer, session_factory
from archive.store.home import ArchiveHome
from archive.store.ledger import chain
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from replica.faults.bombs import build
from tests.conftest import article_content, run_crawl

NOW = datetime(2026, 2, 4, 1, 2, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def pristine(replica, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("pristine") / "home"
    result = run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg")
    assert result.exit_code == 0, result.stderr
    return home


@pytest.fixture
def home(pristine, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(pristine, copy)
    return copy


def verify(home: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", "--home", str(home), *extra])
    return result.exit_code, result.stdout


def warc_file(home: Path) -> Path:
    return sorted((home / "warc").glob("*.warc.gz"))[0]


def database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "archive.sqlite3")


def test_an_undamaged_archive_passes(home):
    code, out = verify(home)
    assert code == 0, out
    assert out.startswith("ok:")


def test_a_flipped_bit_in_a_warc_file_is_found(home):
    path = warc_file(home)
    (offset,) = (
        database(home)
        .execute(
            "select offset + length / 2 from captures where media_type like 'application/pdf%'"
            " order by id limit 1"
        )
        .fetchone()
    )
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))
    code, out = verify(home)
    assert code == 1
    assert f"WARC file altered or replaced: SHA-256 differs from the record [{path.name}]" in out


def test_a_truncated_warc_file_is_found(home):
    path = warc_file(home)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, out = verify(home)
    assert code == 1
    assert "record cut off or damaged gzip framing" in out and path.name in out
    assert "points at no record" in out


def test_a_deleted_warc_file_is_found(home):
    path = warc_file(home)
    path.unlink()
    code, out = verify(home)
    assert code == 1
    assert f"WARC file missing [{path.name}]" in out


def test_an_edited_body_in_the_database_is_found(home):
    connection = database(home)
    (version_id, url) = connection.execute(
        "select v.id, a.url from article_versions v join articles a on a.id = v.article_id"
        " order by v.id limit 1"
    ).fetchone()
    connection.execute(
        "update article_versions set body = body || '（篡改）' where id = ?", (version_id,)
    )
    connection.commit()
    code, out = verify(home)
    assert code == 1
    assert f"version {version_id} was edited [{url}]" in out  # the line names the article


def test_a_forged_attachment_digest_is_found(home):
    """Exports and `show` read an attachment's digest from its files row: a forged one must
    not pass because the row itself has no ledger entry."""
    connection = database(home)
    (file_id, url) = connection.execute(
        "select id, url from files where sha256 is not null order by id limit 1"
    ).fetchone()
    connection.execute("update files set sha256 = ? where id = ?", ("0" * 64, file_id))
    connection.commit()
    code, out = verify(home)
    assert code == 1
    assert f"file {file_id} was edited" in out and url in out


def test_a_deleted_capture_row_is_found(home):
    connection = database(home)
    (capture_id, url) = connection.execute(
        "select id, url from captures where status = 200 order by id desc limit 1"
    ).fetchone()
    connection.execute("delete from captures where id = ?", (capture_id,))
    connection.commit()
    code, out = verify(home)
    assert code == 1
    assert f"capture {capture_id} was deleted" in out
    assert "record not indexed" in out and url in out


def test_an_edited_ledger_is_found(home):
    connection = database(home)
    connection.execute("delete from ledger where id = 3")
    connection.commit()
    code, out = verify(home)
    assert code == 1
    assert "ledger broken at entry 4" in out


def test_ledger_head_is_printed_and_moves_with_the_archive(home, replica):
    code, head = verify(home, "--ledger-head")
    assert code == 0 and len(head.strip()) == 64
    run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg", "--full")
    code, after = verify(home, "--ledger-head")
    assert after != head
    code, out = verify(home)
    assert code == 0, out
    assert after.strip() in out


def test_since_audits_only_recent_work(home):
    code, out = verify(home, "--since", "2999-01-01")
    assert code == 0, out
    assert "0 WARC file(s)" in out


def tamper(home: Path, statement: str, parameters: tuple = ()) -> tuple[int, str]:
    """Edit the archive's database behind its back, then verify."""
    connection = database(home)
    connection.execute(statement, parameters)
    connection.commit()
    return verify(home)


def one_row(home: Path, query: str) -> tuple:
    row = database(home).execute(query).fetchone()
    assert row is not None, query
    return row


def edit_an_attachment_of_a_version(home: Path, statement: str) -> int:
    """Run `statement` on one attachment's version_files row; the version's id."""
    (version_id, file_id) = one_row(
        home, "select version_id, file_id from version_files where role = 'attachment' limit 1"
    )
    connection = database(home)
    connection.execute(f"{statement} where version_id = ? and file_id = ?", (version_id, file_id))
    connection.commit()
    return version_id


@pytest.mark.parametrize(
    "statement",
    [
        # Exports show each attachment under the name its version gives it.
        "update version_files set name = '伪造.pdf'",
        "delete from version_files",
    ],
    ids=["renamed", "taken off"],
)
def test_an_edited_attachment_of_a_version_is_found(home, statement):
    version_id = edit_an_attachment_of_a_version(home, statement)
    (url,) = one_row(
        home,
        "select a.url from articles a join article_versions v on v.article_id = a.id"
        f" where v.id = {version_id}",
    )
    code, out = verify(home)
    assert code == 1
    assert f"the files named by version {version_id} was edited [{url}]" in out


def test_a_file_pointed_at_other_bytes_is_found(home):
    """A files row moved to another capture, its digest, size and type copied along, would
    pass the check against its capture: the ledger holds which capture it was."""
    (file_id, url) = one_row(home, "select id, url from files where sha256 is not null limit 1")
    (other,) = one_row(
        home,
        "select c.id from captures c where c.status = 200 and c.id not in"
        " (select capture_id from files where capture_id is not null) limit 1",
    )
    code, out = tamper(
        home,
        "update files set capture_id = c.id, sha256 = c.content_sha256, size = c.content_size,"
        " media_type = c.media_type from captures c where c.id = ? and files.id = ?",
        (other, file_id),
    )
    assert code == 1
    assert f"file {file_id} was edited [{url}]" in out


def test_an_article_marked_gone_by_hand_is_found(home):
    (article_id, url) = one_row(home, "select id, url from articles order by id limit 1")
    code, out = tamper(
        home,
        "update articles set status = 'gone', gone_at = '2026-01-01T00:00:00.000000+00:00'"
        " where id = ?",
        (article_id,),
    )
    assert code == 1
    assert f"article {article_id} was edited [{url}]" in out


def test_an_archive_from_before_the_files_and_articles_were_in_the_ledger_passes(home):
    """Migration 0012 enters the rows of an older archive: verify then passes, and an edit
    made after it is found."""
    connection = database(home)
    new_kinds = "('article', 'file', 'named_files')"
    # The ledger as the older release wrote it: the same entries without the new kinds
    # (and without those of migration 0014, whose columns go too).
    connection.execute(
        f"delete from ledger where kind in {new_kinds} or kind in ('version_cause', 'tree_head')"
    )
    # ...and without migration 0018's Merkle tree and heads.
    connection.execute("drop table ledger_nodes")
    connection.execute("drop table ledger_heads")
    connection.execute("drop index ix_ledger_kind_ref_id")
    connection.execute("alter table ledger drop column position")
    connection.execute("alter table article_versions drop column extractor_version")
    connection.execute("alter table article_versions drop column cause")
    head = "0" * 64
    for entry_id, digest in connection.execute("select id, digest from ledger order by id"):
        head = chain(head, digest)
        connection.execute("update ledger set entry_hash = ? where id = ?", (head, entry_id))
    # ...and without what later migrations added (0013: a column two views now show).
    views = importlib.import_module("archive.store.migrations.versions.0004_views").VIEWS
    for name in ("capture_log", "crawl_run_summary"):
        connection.execute(f"drop view {name}")
    connection.execute("alter table captures drop column oversize")
    for name in ("capture_log", "crawl_run_summary"):
        connection.execute(views[name])
    connection.execute("update alembic_version set version_num = '0011'")
    connection.commit()
    engine = open_writer(ArchiveHome.at(home))  # what the next crawl does first
    engine.dispose()
    counts = dict(
        database(home).execute(
            f"select kind, count(*) from ledger where kind in {new_kinds} group by kind"
        )
    )
    (articles,) = one_row(home, "select count(*) from articles")
    (versions,) = one_row(home, "select count(*) from article_versions")
    assert counts["article"] == articles and counts["named_files"] == versions
    code, out = verify(home)
    assert code == 0, out
    version_id = edit_an_attachment_of_a_version(home, "update version_files set name = 'x'")
    code, out = verify(home)
    assert f"the files named by version {version_id} was edited" in out


def test_gone_and_back_again_passes_and_each_change_is_entered(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://h/", "revisit")
    url = "http://h/a.html"

    def sighting() -> None:
        page = writer.record_exchange(
            HttpExchange(url, "GET", [], 200, "HTTP/1.1", [], b"<p>x</p>", datetime.now(UTC))
        )
        writer.save_article(article_content(url, "正文"), page.id, datetime.now(UTC))

    sighting()
    assert writer.mark_gone(url, datetime.now(UTC))
    assert not writer.mark_gone(url, datetime.now(UTC))  # already gone: no second entry
    sighting()
    sighting()
    writer.finish_run("ok", 0, {})
    writer.close()
    statuses = database(home.root).execute(
        "select a.status from ledger l join articles a on a.id = l.ref_id"
        " where l.kind = 'article' order by l.id"
    )
    assert len(statuses.fetchall()) == 3  # new, gone, live again
    code, out = verify(home.root)
    assert code == 0, out


def test_a_file_made_to_look_never_fetched_is_found(home):
    """Exports would show the attachment as not archived; its bytes are still there."""
    (file_id, url) = one_row(home, "select id, url from files where sha256 is not null limit 1")
    code, out = tamper(
        home,
        "update files set sha256 = null, size = null, media_type = null, problem = 'HTTP 404'"
        " where id = ?",
        (file_id,),
    )
    assert code == 1
    assert f"file {file_id} was edited [{url}]" in out


@pytest.mark.parametrize("flag", [1, 0])
def test_an_oversize_flag_set_or_cleared_by_hand_is_found(tmp_path, flag):
    """Flagged, a capture is never inflated: setting the flag hides its content, clearing it
    makes the read commands inflate a bomb. The ledger covers it (only where set, so that the
    entries written before migration 0013 stand)."""
    home = ArchiveHome.at(tmp_path / "home")
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://h/", "full")
    headers = [("Content-Encoding", "zstd")]
    payload = build("zstd", "page", 64 * 1024 * 1024)
    oversize = writer.record_exchange(
        HttpExchange("http://h/a.html", "GET", [], 200, "HTTP/1.1", headers, payload, NOW),
        max_decoded=1024 * 1024,
    )
    page = writer.record_exchange(
        HttpExchange("http://h/b.html", "GET", [], 200, "HTTP/1.1", [], b"<p>x</p>", NOW)
    )
    writer.commit()
    writer.close()
    assert verify(home.root)[0] == 0
    target = oversize.id if flag == 0 else page.id
    connection = database(home.root)
    connection.execute("update captures set oversize = ? where id = ?", (flag, target))
    connection.commit()
    code, out = verify(home.root)
    assert code == 1 and f"capture {target} was edited" in out


def audit(home: Path, jobs: int = 1, progress: Progress | None = None) -> VerifyReport:
    archive_home = ArchiveHome.at(home)
    engine = open_reader(archive_home)
    try:
        with session_factory(engine)() as session:
            return run_verify(session, archive_home, progress=progress, jobs=jobs)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def several_files(replica, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("several") / "home"
    result = run_crawl(
        home, replica.base_url, "--sections", "tzzgx/thygg", "-s", "ARCHIVE_WARC_MAX_SIZE=8000"
    )
    assert result.exit_code == 0, result.stderr
    assert len(list((home / "warc").glob("*.warc.gz"))) >= 3
    return home


def test_files_of_the_writer_are_read_once_and_damaged_ones_by_warcio(home):
    """The fast pass vouches for what the crawl wrote; a damaged file is read again by
    warcio, which names the damage (the tests above: as it always did)."""
    assert audit(home).files_read_by_warcio == 0
    path = warc_file(home)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = audit(home)
    assert report.files_read_by_warcio == 1 and not report.ok


def test_jobs_check_files_in_parallel_with_the_same_verdicts(several_files, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(several_files, home)
    code, clean = verify(home, "--jobs", "3")
    assert code == 0, clean
    files = sorted((home / "warc").glob("*.warc.gz"))
    for path in files[1], files[-1]:  # damage two files, which the workers report
        data = bytearray(path.read_bytes())
        data[len(data) // 3] ^= 0x04
        path.write_bytes(bytes(data))
    files[2].write_bytes(files[2].read_bytes()[:-100])
    one = verify(home)
    several = verify(home, "--jobs", "3")
    assert one[0] == several[0] == 1
    assert several[1] == one[1]  # the same problems, in the same order
    assert all(path.name in one[1] for path in (files[1], files[2], files[-1]))
    assert audit(home, jobs=3).files == len(files)


def test_progress_is_shown_on_a_terminal_and_not_under_cron(home):
    result = CliRunner().invoke(main, ["verify", "--home", str(home)])  # no terminal
    assert result.exit_code == 0 and result.stderr == ""
    screen = io.StringIO()
    with TerminalProgress(Console(file=screen, force_terminal=True, width=100)) as progress:
        report = audit(home, progress=progress)
    assert report.ok
    shown = screen.getvalue()
    assert "WARC files" in shown and "rows and ledger" in shown
    assert re.search(r" (\d[\d,]*)/\1 ", shown), "the rows' bar reaches its end"


def test_text_with_rare_control_characters_passes_and_its_edit_is_found(tmp_path):
    """verify hashes rows from their bytes and leaves rare controls unescaped on the way
    (archive.evidence.canonical_bytes): such a row is hashed again by the rule itself,
    so it passes as written and is found once edited."""
    home = ArchiveHome.at(tmp_path / "home")
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://h/", "full")
    url = "http://h/\x01.html"
    page = writer.record_exchange(
        HttpExchange(url, "GET", [], 200, "HTTP/1.1", [], b"<p>x</p>", datetime.now(UTC))
    )
    writer.save_article(article_content(url, '正文\x01\x1f\x0b"\\'), page.id, datetime.now(UTC))
    writer.finish_run("ok", 0, {})
    writer.close()
    code, out = verify(home.root)
    assert code == 0, out
    connection = database(home.root)
    connection.execute("update article_versions set body = body || '\x02'")
    connection.commit()
    code, out = verify(home.root)
    assert code == 1
    assert "version 1 was edited" in out
