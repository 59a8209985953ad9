"""verify: an undamaged archive passes; each kind of damage is found, named, exit code 1."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import main
from tests.conftest import run_crawl


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
    assert f"version {version_id} was edited" in out


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
