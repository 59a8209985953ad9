"""A WARC file's seal (archive.evidence.warc_seal, migration 0020): the writer seals each file it
closes, `verify` checks a sealed file by its SHA-256 and its capture rows against the seal,
and finds every kind of damage exactly as reading it record by record (`--deep`) finds it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from archive.cli import main
from archive.evidence import warc_seal
from archive.evidence.findings import Progress
from archive.evidence.verify import verify as run_verify
from archive.read.sql import open_sql_reader
from archive.store.home import ArchiveHome
from archive.store.tables import CAPTURES
from archive.store.warc_names import file_sha256
from archive.store.writer import ArchiveWriter
from tests.conftest import page_exchange, run_crawl


@pytest.fixture(scope="module")
def sealed(replica, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("sealed") / "home"
    result = run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg")
    assert result.exit_code == 0, result.stderr
    return home


@pytest.fixture
def home(sealed, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(sealed, copy)
    return copy


def verify(home: Path, *extra: str) -> tuple[int, list[str], str]:
    """(exit code, the PROBLEM lines, the summary line)."""
    result = CliRunner().invoke(main, ["verify", "--home", str(home), *extra])
    lines = result.stdout.splitlines()
    return result.exit_code, [line for line in lines if line.startswith("PROBLEM")], lines[-1]


def database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "archive.sqlite3")


def report(home: Path, deep: bool = False):
    with open_sql_reader(ArchiveHome.at(home)) as reader:
        return run_verify(reader, ArchiveHome.at(home), progress=Progress(), deep=deep)


def test_every_file_a_crawl_closes_is_sealed_and_entered_in_the_ledger(home):
    with database(home) as db:
        files = db.execute("SELECT id, record_count, index_sha256 FROM warc_files").fetchall()
        sealed_entries = {
            ref_id for (ref_id,) in db.execute("SELECT ref_id FROM ledger WHERE kind = 'warc_seal'")
        }
    assert files and all(count and index for _id, count, index in files)
    assert sealed_entries == {file_id for file_id, _count, _index in files}


def test_a_sealed_file_is_checked_by_its_seal_and_counts_as_a_deep_reading_does(home):
    by_seal, deep = report(home), report(home, deep=True)
    assert by_seal.ok and deep.ok, (by_seal.problems, deep.problems)
    assert by_seal.files_checked_by_seal == by_seal.files > 0
    assert deep.files_checked_by_seal == 0
    assert (by_seal.files, by_seal.records, by_seal.captures, by_seal.bytes_read) == (
        deep.files,
        deep.records,
        deep.captures,
        deep.bytes_read,
    )
    code, problems, summary = verify(home)
    assert (code, problems) == (0, [])
    assert "by its seal" in summary or "by their seals" in summary


def damaged_alike(home: Path) -> list[str]:
    """The problems verify names, the same with and without --deep."""
    code, problems, _summary = verify(home)
    deep_code, deep_problems, _deep_summary = verify(home, "--deep")
    assert code == deep_code == 1
    assert problems == deep_problems
    return problems


def flip_a_byte_of_the_largest_response(home: Path) -> tuple[int, Path, int]:
    """(its capture's id, its file, its offset), a byte in the middle of its record flipped."""
    with database(home) as db:
        capture_id, name, offset, length = db.execute(
            'SELECT c.id, w.name, c."offset", c.length FROM captures c'
            " JOIN warc_files w ON w.id = c.warc_file_id"
            " WHERE c.record_type = 'response' ORDER BY c.length DESC LIMIT 1"
        ).fetchone()
    path = home / "warc" / name
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return capture_id, path, offset


def test_a_flipped_byte_in_a_sealed_file_is_named_as_a_deep_reading_names_it(home):
    _capture_id, _path, offset = flip_a_byte_of_the_largest_response(home)
    problems = damaged_alike(home)
    assert any("SHA-256 differs from the record" in line for line in problems)
    assert any(f"@ {offset}]" in line for line in problems), problems  # the record named


def test_a_deleted_capture_row_is_found_as_an_unindexed_record(home):
    with database(home) as db:
        capture_id, url = db.execute(
            "SELECT id, url FROM captures WHERE status = 200 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        db.execute("DELETE FROM captures WHERE id = ?", (capture_id,))
    problems = damaged_alike(home)
    assert any(f"capture {capture_id} was deleted" in line for line in problems)
    assert any("record not indexed" in line and url in line for line in problems)


def test_a_capture_moved_to_another_record_is_found(home):
    with database(home) as db:
        first, second = db.execute(
            "SELECT id, \"offset\" FROM captures WHERE record_type = 'response' ORDER BY id LIMIT 2"
        ).fetchall()
        db.execute('UPDATE captures SET "offset" = ? WHERE id = ?', (second[1], first[0]))
    problems = damaged_alike(home)
    assert any(f"capture {first[0]} was edited" in line for line in problems)
    assert any(f"capture {first[0]} points at no record" in line for line in problems)


def test_a_seal_made_to_match_edited_rows_is_found_by_the_ledger(home):
    """The seal is evidence too: a forger who edits a capture row and then writes the seal its
    rows would give is named, and the file is read record by record."""
    with database(home) as db:
        capture_id, offset, file_id = db.execute(
            'SELECT id, "offset", warc_file_id FROM captures'
            " WHERE record_type = 'response' ORDER BY id LIMIT 1"
        ).fetchone()
        db.execute("UPDATE captures SET payload_sha256 = ? WHERE id = ?", ("0" * 64, capture_id))
        rows = db.execute(
            'SELECT "offset", record_id, record_type, payload_sha256 FROM captures'
            " WHERE warc_file_id = ?",
            (file_id,),
        ).fetchall()
        db.execute(
            "UPDATE warc_files SET index_sha256 = ? WHERE id = ?",
            (warc_seal.index_digest(rows), file_id),
        )
    code, problems, _summary = verify(home)
    assert code == 1
    assert any(f"the seal of WARC file {file_id} was edited" in line for line in problems)
    assert any(f"capture {capture_id} was edited" in line for line in problems)
    assert any(f"capture {capture_id}: payload does not match" in line for line in problems)


def test_an_archive_from_before_seals_is_read_record_by_record(tmp_path, monkeypatch):
    """Readers never migrate: files closed by an older release have no seal, and an archive
    last written before migration 0020 has not even the columns; both are read whole."""
    home = ArchiveHome.at(tmp_path / "home")
    unsealed = warc_seal.close_file

    def as_before(path: Path) -> warc_seal.ClosedFile:
        return unsealed(path)._replace(record_count=None, index_sha256=None)

    monkeypatch.setattr("archive.store.writer.captures.close_file", as_before)
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://127.0.0.1:8000/", "full")
    for number in (1, 2, 3):
        writer.record_exchange(page_exchange(number))
    writer.finish_run("ok", 0, {})
    writer.close()
    found = report(home.root)
    assert found.ok and found.files == 1 and found.files_checked_by_seal == 0
    assert found.records == 7  # warcinfo, then a request and a response a page
    with database(home.root) as db:
        db.execute("ALTER TABLE warc_files DROP COLUMN index_sha256")
        db.execute("ALTER TABLE warc_files DROP COLUMN record_count")
        db.execute("UPDATE alembic_version SET version_num = '0019'")
    code, problems, summary = verify(home.root)
    assert (code, problems) == (0, []), summary
    assert summary.startswith("ok: 1 WARC file(s) (0.0 MB), 7 records")


def test_a_file_the_fast_pass_does_not_vouch_for_is_closed_unsealed(home):
    path = sorted((home / "warc").glob("*.warc.gz"))[0]
    closed = warc_seal.close_file(path)
    assert closed.record_count is not None and closed.index_sha256 is not None
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    damaged = warc_seal.close_file(path)
    assert damaged.size == closed.size and damaged.sha256 != closed.sha256
    assert (damaged.record_count, damaged.index_sha256) == (None, None)


def unsealed_archive(root: Path, monkeypatch, runs: int = 1) -> ArchiveHome:
    """An archive whose files were closed as a release before seals closed them."""
    home = ArchiveHome.at(root)
    unsealed = warc_seal.close_file
    with monkeypatch.context() as patched:
        patched.setattr(
            "archive.store.writer.captures.close_file",
            lambda path: unsealed(path)._replace(record_count=None, index_sha256=None),
        )
        for run in range(runs):
            writer = ArchiveWriter(home)
            writer.start_run("chalco", "http://127.0.0.1:8000/", "full")
            for number in (1, 2, 3):
                writer.record_exchange(page_exchange(3 * run + number))
            writer.finish_run("ok", 0, {})
            writer.close()
    return home


def seal(home: ArchiveHome) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["seal", "--home", str(home.root)])
    return result.exit_code, result.stdout


def test_seal_seals_the_files_an_older_release_closed(tmp_path, monkeypatch):
    home = unsealed_archive(tmp_path / "home", monkeypatch)
    assert report(home.root).files_checked_by_seal == 0
    code, out = seal(home)
    assert code == 0, out
    assert out.splitlines()[-1] == "ok: 1 file(s) sealed, 0 not"
    after = report(home.root)
    assert after.ok, after.problems
    assert after.files_checked_by_seal == 1 and after.records == 7
    assert seal(home) == (0, "ok: 0 file(s) sealed, 0 not\n")  # nothing left to read


def test_seal_leaves_a_damaged_file_unsealed_and_names_it(tmp_path, monkeypatch):
    home = unsealed_archive(tmp_path / "home", monkeypatch, runs=2)
    first, second = sorted(home.warc_dir.glob("*.warc.gz"))
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0x01
    first.write_bytes(bytes(data))
    code, out = seal(home)
    assert code == 1
    assert f"PROBLEM not sealed: {first.name}: its bytes differ" in out
    assert out.splitlines()[-1] == "not all sealed: 1 file(s) sealed, 1 not"
    after = report(home.root)
    assert after.files_checked_by_seal == 1  # the whole one
    assert any("SHA-256 differs" in p.what and p.file == first.name for p in after.problems)


def test_a_forged_row_of_another_record_type_is_found_as_deep_finds_it(home):
    """A capture row the index does not stand for (a `resource` pointing at nothing), its
    ledger entry appended as a writer appends one: the file is read record by record."""
    writer = ArchiveWriter(ArchiveHome.at(home))
    row = dict(
        writer.connection.execute(
            select(CAPTURES).where(CAPTURES.c.record_type == "response").limit(1)
        )
        .one()
        ._mapping
    )
    row.pop("id")
    row.update(record_type="resource", record_id="<urn:uuid:0>", offset=row["offset"] + 7)
    forged = writer.connection.execute(insert(CAPTURES).values(**row)).inserted_primary_key[0]
    writer._ledger.add_row("capture", CAPTURES, forged)
    writer.commit()
    writer.close()
    problems = damaged_alike(home)
    assert any(f"capture {forged} points at no record" in line for line in problems), problems


def test_a_file_digest_rewritten_to_match_damaged_bytes_is_not_taken(home):
    """The SHA-256 a sealed file is checked against must be the one the ledger holds: with
    the row rewritten to the damaged file's, the record is still named (and `repair` finds
    its capture)."""
    capture_id, path, _offset = flip_a_byte_of_the_largest_response(home)
    with database(home) as db:
        db.execute(
            "UPDATE warc_files SET sha256 = ? WHERE name = ?", (file_sha256(path), path.name)
        )
    problems = damaged_alike(home)
    assert any(line.startswith(f"PROBLEM capture {capture_id}: ") for line in problems), problems
    assert any("warc_file 1 was edited" in line for line in problems)


def test_readers_of_the_orm_read_an_archive_from_before_seals(home, tmp_path):
    """package reads WARC files' rows through the ORM: on an archive last written before
    migration 0020 it must not ask for the seal's columns."""
    with database(home) as db:
        (url,) = db.execute("SELECT url FROM articles ORDER BY id LIMIT 1").fetchone()
        db.execute("ALTER TABLE warc_files DROP COLUMN index_sha256")
        db.execute("ALTER TABLE warc_files DROP COLUMN record_count")
        db.execute("UPDATE alembic_version SET version_num = '0019'")
    output = tmp_path / "one.wacz"
    result = CliRunner().invoke(
        main, ["package", "--home", str(home), "--url", url, "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert output.stat().st_size > 0


def test_seal_notes_a_file_damaged_only_where_repair_put_its_loss_on_record(tmp_path, monkeypatch):
    home = unsealed_archive(tmp_path / "home", monkeypatch)
    with database(home.root) as db:
        capture_id, record_id, name, offset, length = db.execute(
            'SELECT c.id, c.record_id, w.name, c."offset", c.length FROM captures c'
            " JOIN warc_files w ON w.id = c.warc_file_id WHERE c.record_type = 'response'"
            " ORDER BY c.id LIMIT 1 OFFSET 1"
        ).fetchone()
    path = home.warc_dir / name
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0x01
    path.write_bytes(bytes(data))
    writer = ArchiveWriter(home)  # what `repair` does: the page again, its loss on record
    writer.start_run("chalco", "http://127.0.0.1:8000/", "repair")
    replacement = writer.record_exchange(page_exchange(2), whole=True)
    writer.record_loss(capture_id, record_id, "damaged", replacement.id)
    writer.finish_run("ok", 0, {})
    writer.close()
    assert report(home.root).ok
    result = CliRunner().invoke(main, ["seal", "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    assert f"note: not sealed: {name}: damaged where `repair` put its losses" in result.stderr
    assert "PROBLEM" not in result.stdout
