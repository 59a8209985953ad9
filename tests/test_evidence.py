"""Evidence a third party can check, over real HTTP: a crawl of the replica timestamped by a
local RFC 3161 authority (tests/tsa_authority.py), its package checked with no archive at
hand, and each forgery found and named: a flipped byte in a record, a removed proof, a head
timestamped by another authority, a package re-signed with another key, a token for another
hash, a history rewritten from the middle with every row and entry rehashed."""

from __future__ import annotations

import base64
import gzip
import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from warcio.archiveiterator import ArchiveIterator

from archive.cli import main
from archive.evidence.package_proof import PROOF_MEMBER
from archive.evidence.package_signing import anonymous_signer, seal_package
from archive.evidence.timestamps import TsaConfig, request_token
from archive.store import merkle
from archive.store.db import open_writer
from archive.store.home import ArchiveHome
from archive.store.ledger import GENESIS, chain, row_digest
from archive.store.ledger_tree import head_message
from tests.conftest import run_crawl
from tests.fresh_interpreter import loaded_after
from tests.small_archive import build_small_archive
from tests.tsa_authority import TimeStampAuthority

SECTION = "tzzgx/thygg"
WARC_MEMBER = "archive/data.warc.gz"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with TimeStampAuthority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(scope="module")
def stamped(replica, tsa, tmp_path_factory) -> Path:
    """One small crawl, its head timestamped at the run's end."""
    home = tmp_path_factory.mktemp("stamped") / "home"
    result = run_crawl(home, replica.base_url, "--sections", SECTION, *tsa_settings(tsa))
    assert result.exit_code == 0, result.stderr
    assert result.summary["tree_head"]["timestamped_at"] is not None
    assert result.summary["notes"] == []
    return home


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("key")
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "archive.key", folder / "archive.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture(scope="module")
def package(stamped, signing_key, tmp_path_factory) -> Path:
    """The crawl's every version as a package signed with the archive's own key."""
    output = tmp_path_factory.mktemp("package") / "all.wacz"
    code, out = cli(
        "package", "--home", str(stamped), "--since", "2000-01-01", "-o", str(output),
        "--signing-key", str(signing_key[0]),
    )  # fmt: skip
    assert code == 0, out
    return output


@pytest.fixture
def home(stamped, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(stamped, copy)
    return copy


def tsa_settings(tsa: TimeStampAuthority) -> list[str]:
    return ["-s", f"TSA_URL={tsa.url}", "-s", f"TSA_CA_BUNDLE={tsa.ca_pem}"]


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def check(path: Path, tsa: TimeStampAuthority, *extra: str) -> tuple[int, str]:
    return cli("check-package", str(path), "--tsa-ca", str(tsa.ca_pem), *extra)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def forged(original: Path, target: Path, changed: dict[str, bytes]) -> Path:
    """The package with `changed` members, listed and signed anew by a forger's own key."""
    shutil.copy(original, target)
    seal_package(target, changed, anonymous_signer(), "forger")
    return target


def proof_of(path: Path) -> dict:
    return json.loads(members(path)[PROOF_MEMBER])


def test_a_crawl_records_a_timestamped_head_that_verify_checks(home, tsa):
    code, out = cli("verify", "--home", str(home), "--tsa-ca", str(tsa.ca_pem))
    assert code == 0, out
    assert "1 tree head(s), 1 timestamped (the first" in out


def test_a_package_of_a_crawl_checks_clean_with_no_archive_at_hand(package, tsa, signing_key):
    proof = proof_of(package)
    code, out = check(package, tsa, "--signer-key", str(signing_key[1]))
    assert code == 0, out
    records = [line for line in out.splitlines() if line.startswith("ok record ")]
    assert len(records) == len(proof["records"]) > 0
    (head,) = proof["heads"]
    assert all(f"existed by {head['timestamped_at']}" in line for line in records)
    assert out.splitlines()[-1].startswith(f"ok: {len(records)} of {len(records)} records proven")


def test_a_flipped_byte_in_a_record_is_found_and_named(package, tsa, tmp_path):
    data = members(package)[WARC_MEMBER]
    iterator = ArchiveIterator(io.BytesIO(data))
    for record in iterator:
        offset = iterator.get_record_offset()
        is_page = record.rec_type == "response" and "html" in (
            record.http_headers.get_header("Content-Type") or ""
        )
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        iterator.read_to_end(record)
        if is_page:
            length = iterator.get_record_length()
            break
    member = bytearray(gzip.decompress(data[offset : offset + length]))
    member[-10] ^= 0x01  # in the payload, before the record's closing CRLFs
    flipped = data[:offset] + gzip.compress(bytes(member)) + data[offset + length :]
    # A forger who lists the new WARC file and signs again: the proof still names the byte.
    code, out = check(forged(package, tmp_path / "flipped.wacz", {WARC_MEMBER: flipped}), tsa)
    assert code == 1
    assert f"PROBLEM record {record_id} [" in out
    assert "its payload does not match the digest the ledger holds" in out
    # One who does not: the member's digest is found too.
    naive = tmp_path / "naive.wacz"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(naive, "w") as target:
        for info in source.infolist():
            body = flipped if info.filename == WARC_MEMBER else source.read(info)
            target.writestr(info, body)
    code, out = check(naive, tsa)
    assert code == 1
    assert f"PROBLEM member {WARC_MEMBER} does not match its digest" in out
    assert "its payload does not match the digest the ledger holds" in out


def test_a_removed_proof_is_found(package, tsa, tmp_path):
    proof = proof_of(package)
    removed = proof["records"].pop(0)
    changed = {PROOF_MEMBER: json.dumps(proof).encode()}
    code, out = check(forged(package, tmp_path / "removed.wacz", changed), tsa)
    assert code == 1
    assert f"PROBLEM record {removed['record_id']} [{removed['url']}] has no proof" in out


def test_a_head_timestamped_by_another_authority_is_found(package, tsa, tmp_path):
    """A forger's own authority (its own CA) stamps a head of the forger's making."""
    proof = proof_of(package)
    head = proof["heads"][0]
    with TimeStampAuthority(tmp_path / "other", "Forger TSA") as other:
        token = request_token(
            TsaConfig(other.url), head_message(head["tree_size"], head["root_hash"])
        )
    head["token"] = base64.b64encode(token.der).decode()
    changed = {PROOF_MEMBER: json.dumps(proof).encode()}
    code, out = check(forged(package, tmp_path / "other.wacz", changed), tsa)
    assert code == 1
    assert f"PROBLEM tree head (size {head['tree_size']}, root {head['root_hash']}): its" in out
    assert "not signed by a trusted authority" in out


def test_a_package_re_signed_with_another_key_is_found(package, tsa, tmp_path, signing_key):
    resigned = forged(package, tmp_path / "resigned.wacz", {})
    code, out = check(resigned, tsa, "--signer-key", str(signing_key[1]))
    assert code == 1
    assert "PROBLEM the package is signed by another key than the one trusted" in out
    # Without the key to trust, the package holds: anonymous signing proves wholeness only.
    code, out = check(resigned, tsa)
    assert code == 0, out


def test_a_token_for_another_hash_is_found(package, home, tsa, tmp_path):
    other = request_token(TsaConfig(tsa.url, tsa.ca_pem), b"another message")
    proof = proof_of(package)
    proof["heads"][0]["token"] = base64.b64encode(other.der).decode()
    code, out = check(
        forged(package, tmp_path / "swapped.wacz", {PROOF_MEMBER: json.dumps(proof).encode()}), tsa
    )
    assert code == 1
    assert "its timestamp token is for another hash than this head's" in out
    # In the archive itself, verify finds the same.
    connection = sqlite3.connect(home / "archive.sqlite3")
    connection.execute("update ledger_heads set token = ?", (other.der,))
    connection.commit()
    code, out = cli("verify", "--home", str(home), "--tsa-ca", str(tsa.ca_pem))
    assert code == 1
    assert "PROBLEM tree head 1 (size" in out and "is for another hash than this head's" in out


def rewrite_history(database: Path, *, heads_too: bool) -> int:
    """Edit a version's body in the middle of the ledger, then rehash everything after it as
    a forger holding the database would: the row's entry, the chain, the Merkle tree and
    (`heads_too`) the recorded heads and their own entries. The version's id."""
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    versions = connection.execute("select id from article_versions order by id").fetchall()
    version_id = versions[len(versions) // 2]["id"]
    connection.execute(
        "update article_versions set body = body || '（改写）' where id = ?", (version_id,)
    )
    tables = {"version": "article_versions", "tree_head": "ledger_heads"}
    heads = {
        row["tree_size"]: row["id"] for row in connection.execute("select * from ledger_heads")
    }
    head, frontier = GENESIS, merkle.Frontier()
    connection.execute("delete from ledger_nodes")
    for entry in connection.execute("select * from ledger order by id").fetchall():
        digest = entry["digest"]
        if (entry["kind"], entry["ref_id"]) == ("version", version_id) or (
            heads_too and entry["kind"] == "tree_head"
        ):
            row = connection.execute(
                f"select * from {tables[entry['kind']]} where id = ?", (entry["ref_id"],)
            ).fetchone()
            digest = row_digest(entry["kind"], dict(row))
        head = chain(head, digest)
        connection.execute(
            "update ledger set digest = ?, entry_hash = ? where id = ?", (digest, head, entry["id"])
        )
        made = frontier.append(
            merkle.leaf_hash(merkle.entry_bytes(entry["kind"], entry["ref_id"], digest))
        )
        connection.executemany("insert into ledger_nodes values (?, ?, ?)", made)
        if heads_too and frontier.size in heads:
            connection.execute(
                "update ledger_heads set root_hash = ? where id = ?",
                (frontier.root().hex(), heads[frontier.size]),
            )
    connection.commit()
    return version_id


def test_a_history_rewritten_from_the_middle_is_found(home, tsa, package):
    rewrite_history(home / "archive.sqlite3", heads_too=False)
    code, out = cli("verify", "--home", str(home), "--tsa-ca", str(tsa.ca_pem))
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    # Every row matches its entry and the chain is whole: only the tree head says it.
    assert len(problems) == 1, problems
    assert "does not match the ledger's entries: the history before it was rewritten" in out


def test_a_history_rewritten_with_its_heads_is_found_by_their_tokens(home, tsa, package):
    rewrite_history(home / "archive.sqlite3", heads_too=True)
    code, out = cli("verify", "--home", str(home), "--tsa-ca", str(tsa.ca_pem))
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, problems
    assert "its timestamp token is for another hash than this head's" in problems[0]
    # A head held from before (here: the package's) names the rewrite as well.
    (held,) = proof_of(package)["heads"]
    known = f"{held['tree_size']}:{held['root_hash']}"
    code, out = cli("verify", "--home", str(home), "--known-head", known)
    assert code == 1
    assert f"known head (size {held['tree_size']}, root {held['root_hash']}) does not match" in out


def test_an_authority_out_of_reach_leaves_a_note_and_the_next_run_timestamps(home, replica, tsa):
    tsa.down = True
    try:
        result = run_crawl(
            home, replica.base_url, "--sections", SECTION, "--full", *tsa_settings(tsa)
        )
    finally:
        tsa.down = False
    assert result.exit_code == 0, result.stderr  # archived all the same
    assert result.summary["status"] == "ok"
    (note,) = result.summary["notes"]
    assert "not timestamped" in note and "503" in note
    assert result.summary["tree_head"]["timestamped_at"] is None
    code, out = cli("verify", "--home", str(home), "--tsa-ca", str(tsa.ca_pem))
    assert code == 0, out
    again = run_crawl(home, replica.base_url, "--sections", SECTION, "--full", *tsa_settings(tsa))
    assert again.exit_code == 0 and again.summary["notes"] == []
    newest = again.summary["tree_head"]
    assert newest["timestamped_at"] is not None
    assert newest["size"] > result.summary["tree_head"]["size"]  # covers the unstamped run
    code, out = cli("verify", "--home", str(home), "--tsa-ca", str(tsa.ca_pem))
    assert code == 0, out
    assert "3 tree head(s), 2 timestamped" in out


def test_attest_timestamps_the_current_head_on_demand(tmp_path, tsa):
    small = build_small_archive(tmp_path / "small").home  # its run's head: no authority
    unreachable = "http://127.0.0.1:9/tsr"
    code, out = cli("attest", "--home", str(small), "--tsa-url", unreachable)
    assert code == 1
    assert out.startswith("Error: the authority http://127.0.0.1:9/tsr could not be reached")
    assert len(out.strip().splitlines()) == 1
    code, out = cli(
        "attest", "--home", str(small), "--tsa-url", tsa.url, "--tsa-ca", str(tsa.ca_pem)
    )
    assert code == 0, out
    assert "; timestamped, the entries under it proven by" in out
    code, again = cli("attest", "--home", str(small), "--tsa-url", tsa.url)
    assert "already timestamped" in again  # nothing new since: the same head
    code, out = cli("verify", "--home", str(small), "--tsa-ca", str(tsa.ca_pem))
    # (The small archive's PDF was captured with an HTML Content-Type, which verify flags in
    # its file row: a quirk of that fixture, not of its ledger.)
    assert not [line for line in out.splitlines() if "tree" in line and "PROBLEM" in line]
    assert "1 tree head(s), 1 timestamped" in out


def test_check_package_refuses_a_member_that_climbs_out_first(tmp_path, tsa):
    evil = tmp_path / "evil.wacz"
    with zipfile.ZipFile(evil, "w") as package:
        package.writestr("datapackage.json", "{}")
        package.writestr("../../escape.txt", "x")
    code, out = check(evil, tsa)
    assert code == 1
    assert "refused: member '../../escape.txt' climbs out with '..'" in out
    assert len(out.strip().splitlines()) == 1


def test_a_digest_the_checker_recomputes_is_the_ledgers(package):
    """The proof's capture rows hash to their entries by the rule the proof states."""
    for record in proof_of(package)["records"]:
        assert row_digest("capture", record["row"]) == record["entry"]["digest"]


def test_the_migration_builds_the_tree_the_writer_keeps(home):
    """An archive from before migration 0018 gets the very tree its writer would have kept:
    the same nodes and positions; its heads (none before) come with its next run."""
    database = home / "archive.sqlite3"
    connection = sqlite3.connect(database)
    nodes = connection.execute("select * from ledger_nodes order by level, position").fetchall()
    positions = connection.execute("select id, position from ledger order by id").fetchall()
    connection.execute("drop table ledger_nodes")
    connection.execute("delete from ledger_heads")
    connection.execute("drop index ix_ledger_kind_ref_id")
    connection.execute("update ledger set position = null")
    connection.execute("update alembic_version set version_num = '0014'")
    connection.commit()
    connection.close()
    open_writer(ArchiveHome.at(home)).dispose()  # what the next crawl does first
    connection = sqlite3.connect(database)
    assert (
        connection.execute("select * from ledger_nodes order by level, position").fetchall()
        == nodes
    )
    assert connection.execute("select id, position from ledger order by id").fetchall() == positions


def test_a_damaged_tree_never_stops_a_crawl_and_verify_names_it(home, replica):
    connection = sqlite3.connect(home / "archive.sqlite3")
    connection.execute("delete from ledger_nodes where level > 0")
    connection.commit()
    connection.close()
    result = run_crawl(home, replica.base_url, "--sections", SECTION, "--full")
    assert result.exit_code == 0, result.stderr  # archived all the same
    code, out = cli("verify", "--home", str(home))
    assert code == 1
    assert "PROBLEM tree head 1: the ledger's tree lacks node(s)" in out


def test_verify_on_sqlite_loads_no_sqlalchemy(home, tmp_path):
    """verify reads SQLite with the standard library alone (archive.evidence.raw_rows); rich
    only on a terminal, urllib's HTTP (ssl) never, warcio only for a file the fast pass does not
    vouch for. (The tokens' check loads rfc3161-client.)"""
    code = (
        "import contextlib, io\n"
        "from archive.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['verify', '--home', {str(home)!r}], standalone_mode=False)"
    )
    heavy = ("sqlalchemy", "alembic", "rich", "ssl", "warcio")
    assert loaded_after(code, tmp_path, *heavy) == []


@pytest.mark.parametrize(
    "proof",
    [
        b"not json",
        b"[]",
        b'{"format": "chalco-archive-proof/1", "heads": 5, "records": {"a": 1}}',
        b'{"format": "chalco-archive-proof/1", "heads": [1, null], "consistency": 3,'
        b' "records": [{"record_id": "x", "row": [], "entry": 1}]}',
    ],
)
def test_a_damaged_proof_gets_problems_never_a_traceback(package, tsa, tmp_path, proof):
    code, out = check(forged(package, tmp_path / "damaged.wacz", {PROOF_MEMBER: proof}), tsa)
    assert code == 1
    assert "Traceback" not in out
    assert [line for line in out.splitlines() if line.startswith("PROBLEM ")]


def test_records_under_no_tree_head_are_not_packaged_unproven(tmp_path):
    small = build_small_archive(tmp_path / "small")
    connection = sqlite3.connect(small.home / "archive.sqlite3")
    connection.execute("delete from ledger_heads")  # as after migration 0018, before a run
    connection.commit()
    connection.close()
    output = tmp_path / "p.wacz"
    code, out = cli(
        "package", "--home", str(small.home), "--url", small.edited_url, "-o", str(output)
    )
    assert code == 1
    assert out.startswith("Error: ") and "not yet under a tree head" in out
    assert len(out.strip().splitlines()) == 1 and not output.exists()
