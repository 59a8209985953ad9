"""Checking a package offline, with no archive at hand (`chalco-archive check-package`):
its member names first (zip-slip refused), every member against its digest in
datapackage.json, the signature (WACZ signing spec), every tree head's timestamp token
against the trusted CAs, the heads' consistency proofs, and every record: its bytes against
the capture row, the row against its ledger entry, the entry's inclusion proof against its
head. Each record that holds is named with the time its head's token proves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError
from archive.evidence.package_proof import PROOF_FORMAT, PROOF_MEMBER
from archive.evidence.package_reader import open_package
from archive.evidence.package_signing import DATAPACKAGE_MEMBER, DIGEST_MEMBER, check_signature
from archive.evidence.timestamps import TokenInvalid, check_token, load_roots
from archive.store import merkle
from archive.store.ledger import row_digest
from archive.store.ledger_tree import head_message

# Where a WACZ keeps its WARC files.
WARC_FOLDER = "archive/"
PROVEN_TYPES = ("response", "revisit")
# A package's JSON members are read whole; a proof is about 1.5 kB a record.
MAX_JSON = 256 << 20


class NoTrustedAuthority(ArchiveError):
    """The package's heads carry tokens but no CA to check them against was named."""


@dataclass
class PackageReport:
    lines: list[str] = field(default_factory=list)
    """One line per finding, in order: `ok …` for a record that holds, `PROBLEM …`."""
    notes: list[str] = field(default_factory=list)
    problems: int = 0
    records: int = 0
    proven: int = 0
    signer: str = ""

    def ok(self, line: str) -> None:
        self.lines.append(f"ok {line}")

    def problem(self, line: str) -> None:
        self.problems += 1
        self.lines.append(f"PROBLEM {line}")

    @property
    def holds(self) -> bool:
        return self.problems == 0


@dataclass(frozen=True)
class _Head:
    size: int
    root: bytes
    proven_at: datetime | None
    authority: str | None


def check_package(
    path: Path, ca_bundle: Path | None = None, trusted_key: Any | None = None
) -> PackageReport:
    report = PackageReport()
    with open_package(path) as package:  # every member name checked before any is read
        names = set(package.namelist())
        datapackage = _read(package, DATAPACKAGE_MEMBER, report)
        digest = _read(package, DIGEST_MEMBER, report)
        if datapackage is None or digest is None:
            return report
        _check_signature(digest, datapackage, trusted_key, report)
        _check_members(package, names, datapackage, report)
        proof = _read(package, PROOF_MEMBER, report)
        if proof is None:
            return report
        try:
            evidence = json.loads(proof)
            if evidence.get("format") != PROOF_FORMAT:
                raise ValueError(evidence.get("format"))
        except (ValueError, AttributeError):
            report.problem(f"{PROOF_MEMBER} is not a proof this checker reads")
            return report
        heads = _check_heads(evidence, ca_bundle, report)
        _check_records(package, evidence, heads, report)
    return report


def _listed(value: Any) -> list[Any]:
    """A proof's list, as written; anything else is no list (a forged or damaged proof)."""
    return value if isinstance(value, list) else []


def _read(package: zipfile.ZipFile, name: str, report: PackageReport) -> bytes | None:
    """A JSON member, whole: refused past MAX_JSON (a ZIP member may inflate to anything)."""
    try:
        info = package.getinfo(name)
    except KeyError:
        report.problem(f"the package has no {name}")
        return None
    if info.file_size > MAX_JSON:
        report.problem(f"{name} is larger than a proof can be ({info.file_size} bytes)")
        return None
    return package.read(info)


def _check_signature(
    digest: bytes, datapackage: bytes, trusted_key: Any | None, report: PackageReport
) -> None:
    signature = check_signature(digest, datapackage, trusted_key)
    for problem in signature.problems:
        report.problem(problem)
    if not signature.problems:
        report.ok(f"signature: datapackage.json signed by {signature.signer}")
    report.signer = signature.signer


def _check_members(
    package: zipfile.ZipFile, names: set[str], datapackage: bytes, report: PackageReport
) -> None:
    """Every member is listed with its SHA-256 and size, and matches them."""
    try:
        resources = json.loads(datapackage).get("resources", [])
    except (ValueError, AttributeError):
        report.problem(f"{DATAPACKAGE_MEMBER} is not JSON")
        return
    listed = set()
    for resource in resources:
        name = resource.get("path")
        listed.add(name)
        if name not in names:
            report.problem(f"member {name} is listed in {DATAPACKAGE_MEMBER} but missing")
            continue
        digest = hashlib.sha256()
        size = 0
        with package.open(name) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        if resource.get("hash") != "sha256:" + digest.hexdigest() or resource.get("bytes") != size:
            report.problem(f"member {name} does not match its digest in {DATAPACKAGE_MEMBER}")
    for name in sorted(names - listed - {DATAPACKAGE_MEMBER, DIGEST_MEMBER}):
        if not name.endswith("/"):
            report.problem(f"member {name} is not listed in {DATAPACKAGE_MEMBER}")


def _check_heads(
    evidence: dict[str, Any], ca_bundle: Path | None, report: PackageReport
) -> dict[int, _Head]:
    raw_heads = _listed(evidence.get("heads"))
    if any(isinstance(head, dict) and head.get("token") for head in raw_heads) and not ca_bundle:
        raise NoTrustedAuthority(
            "the package's tree heads carry timestamp tokens: name the CAs to trust with"
            " --tsa-ca FILE (or CHALCO_TSA_CA_BUNDLE)"
        )
    roots = load_roots(ca_bundle) if ca_bundle is not None else None
    heads: dict[int, _Head] = {}
    for raw in raw_heads:
        try:
            if not isinstance(raw, dict):
                raise TypeError(type(raw).__name__)
            size, root = int(raw["tree_size"]), str(raw["root_hash"])
            root_bytes = bytes.fromhex(root)
        except (KeyError, TypeError, ValueError):
            report.problem("a tree head of the proof cannot be read")
            continue
        what = f"tree head (size {size}, root {root})"
        proven_at = None
        if raw.get("token"):
            try:
                token = base64.b64decode(raw["token"], validate=True)
                proven_at = check_token(token, head_message(size, root), roots)
            except TokenInvalid as error:
                report.problem(f"{what}: its timestamp token {error}")
                continue
            except ValueError:
                report.problem(f"{what}: its timestamp token is not base64")
                continue
            report.ok(
                f"{what}: timestamp token holds, proves it existed by {proven_at.isoformat()}"
            )
        else:
            report.notes.append(f"{what} has no timestamp token: its records' time is unproven")
        heads[size] = _Head(size, root_bytes, proven_at, raw.get("tsa_url"))
    _check_consistency(evidence, heads, report)
    return heads


def _check_consistency(
    evidence: dict[str, Any], heads: dict[int, _Head], report: PackageReport
) -> None:
    """Consecutive heads are one history: the later extends the earlier."""
    proofs = {
        (item.get("first"), item.get("second")): item.get("proof") or []
        for item in _listed(evidence.get("consistency"))
        if isinstance(item, dict)
    }
    sizes = sorted(heads)
    for first, second in zip(sizes, sizes[1:], strict=False):
        try:
            path = [bytes.fromhex(h) for h in proofs[first, second]]
            holds = merkle.verify_consistency(
                first, second, heads[first].root, heads[second].root, path
            )
        except (KeyError, ValueError, TypeError):
            holds = False
        if not holds:
            report.problem(
                f"tree heads of size {first} and {second} are not proven consistent: they"
                " are not one history"
            )


def _check_records(
    package: zipfile.ZipFile,
    evidence: dict[str, Any],
    heads: dict[int, _Head],
    report: PackageReport,
) -> None:
    from warcio.archiveiterator import ArchiveIterator

    proofs = {
        item.get("record_id"): item
        for item in _listed(evidence.get("records"))
        if isinstance(item, dict)
    }
    seen: set[str] = set()
    warcs = [
        name
        for name in package.namelist()
        if name.startswith(WARC_FOLDER) and name.endswith((".warc.gz", ".warc"))
    ]
    if not warcs:
        report.problem("the package holds no WARC file")
    for name in warcs:
        try:
            with package.open(name) as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type not in PROVEN_TYPES:
                        continue
                    record_id = record.rec_headers.get_header("WARC-Record-ID")
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    payload = hashlib.sha256()
                    if record.rec_type == "response":  # as stored, never content-decoded
                        while chunk := record.raw_stream.read(1 << 20):
                            payload.update(chunk)
                    report.records += 1
                    seen.add(record_id)
                    item = proofs.get(record_id)
                    if item is None:
                        report.problem(f"record {record_id} [{url}] has no proof")
                        continue
                    _check_record(record, record_id, url, payload.hexdigest(), item, heads, report)
        except Exception as error:  # warcio and zlib raise many kinds on damaged input
            report.problem(f"{name} cannot be read to its end ({type(error).__name__})")
    for record_id in sorted(set(proofs) - seen, key=str):
        report.problem(f"the proof names record {record_id}, which the package does not hold")


def _check_record(
    record: Any,
    record_id: str,
    url: str,
    payload_sha256: str,
    item: dict[str, Any],
    heads: dict[int, _Head],
    report: PackageReport,
) -> None:
    what = f"record {record_id} [{url}]"
    try:
        row, entry = item["row"], item["entry"]
        if not isinstance(row, dict) or not isinstance(entry, dict):
            raise TypeError("not objects")
        digest, position, size = str(entry["digest"]), int(entry["position"]), int(item["head"])
        path = [bytes.fromhex(h) for h in item["proof"]]
        computed = row_digest("capture", row)
    except (KeyError, TypeError, ValueError):
        report.problem(f"{what}: its proof cannot be read")
        return
    if row.get("record_id") != record_id or row.get("url") != url:
        report.problem(f"{what}: its proof is of another record")
        return
    if record.http_headers is not None and record.http_headers.get_statuscode() != str(
        row.get("status")
    ):
        report.problem(f"{what}: its HTTP status is not the one the ledger holds")
    if record.rec_type == "response" and payload_sha256 != row.get("payload_sha256"):
        report.problem(f"{what}: its payload does not match the digest the ledger holds")
        return
    if record.rec_type == "revisit":
        stated = record.rec_headers.get_header("WARC-Payload-Digest") or ""
        expected = base64.b32encode(bytes.fromhex(str(row.get("payload_sha256")))).decode()
        if stated != f"sha256:{expected}":
            report.problem(f"{what}: its payload digest is not the one the ledger holds")
            return
    if entry.get("kind") != "capture" or entry.get("ref_id") != row.get("id") or computed != digest:
        report.problem(f"{what}: its capture row does not match its ledger entry")
        return
    head = heads.get(size)
    if head is None:
        report.problem(f"{what}: its proof leads to no tree head the package holds")
        return
    leaf = merkle.leaf_hash(merkle.entry_bytes("capture", int(row["id"]), digest))
    if not merkle.verify_inclusion(leaf, position, size, path, head.root):
        report.problem(f"{what}: its inclusion proof does not hold against tree head {size}")
        return
    report.proven += 1
    if head.proven_at is None:
        report.ok(f"{what}: in the ledger under tree head {size}; its time is not timestamped")
    else:
        report.ok(
            f"{what}: existed by {head.proven_at.isoformat()} (tree head {size},"
            f" timestamp by {head.authority or 'its authority'})"
        )
