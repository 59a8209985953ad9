"""WACZ packages: valid by py-wacz's own check, made of the archive's records byte for byte,
and replayed by pywb with the bytes that were captured."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wacz.main import main as wacz_main
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_timestamp

from archive.cli import main
from archive.errors import ArticleNotFound, SnapshotCorrupt
from archive.evidence.package import PackageError, build_package
from archive.evidence.package_reader import UnsafePackage, package_pages, unsafe_member_reason
from archive.read.articles import iter_articles
from archive.read.captures import get_snapshot
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.models import ArticleVersion, Capture, CrawlRun
from archive.store.warcstore import decode_content

SAMPLE_PATH = "xwdt/gsyw/202602/t20260204_163644.html"

# pywb runs in its own virtualenv: it pins old releases of its dependencies and installs
# brotlipy, whose `brotli` package shadows the Brotli that Scrapy needs. Importing its app
# also monkey-patches the process with gevent, so it runs in a child process here.
PYWB_REPLAY = """
import base64, json, sys
import webtest
from pywb.apps.frontendapp import FrontEndApp

app = webtest.TestApp(FrontEndApp())
replies = []
for path in sys.argv[2:]:
    reply = app.get(path, status="*")
    replies.append(
        {"status": reply.status_int, "headers": reply.headerlist,
         "body": base64.b64encode(reply.body).decode("ascii")}
    )
with open(sys.argv[1], "w") as handle:
    json.dump(replies, handle)
"""


@pytest.fixture
def archive(crawled) -> Iterator[tuple[ArchiveHome, Session]]:
    home = ArchiveHome.at(crawled.home)
    engine = open_reader(home)
    session = session_factory(engine)()
    try:
        yield home, session
    finally:
        session.close()
        engine.dispose()


def announcement(session: Session) -> dict:
    """The article whose latest version names the most attachments (PDFs)."""
    return max(iter_articles(session), key=lambda record: len(record["attachments"]))


def with_images(session: Session) -> dict:
    return next(record for record in iter_articles(session) if record["images"])


def sample_urls(session: Session) -> list[str]:
    notice = announcement(session)
    assert len(notice["attachments"]) >= 2
    sample = next(r["url"] for r in iter_articles(session) if r["url"].endswith(SAMPLE_PATH))
    return [notice["url"], sample, with_images(session)["url"]]


def warc_members(warc: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    """(type, WARC headers, the record's gzip member) for each record of a WARC file."""
    members = []
    iterator = ArchiveIterator(io.BytesIO(warc))
    for record in iterator:
        headers = dict(record.rec_headers.headers)
        iterator.read_to_end(record)
        offset, length = iterator.get_record_offset(), iterator.get_record_length()
        members.append((record.rec_type, headers, warc[offset : offset + length]))
    return members


def archived_member(home: ArchiveHome, capture: Capture, request: bool = False) -> bytes:
    offset = capture.request_offset if request else capture.offset
    length = capture.request_length if request else capture.length
    assert offset is not None and length is not None
    with open(home.warc_dir / capture.warc_file.name, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def wacz_validate(path: Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return wacz_main(["validate", "-f", str(path)])


def test_package_of_articles_is_a_valid_wacz(archive, tmp_path):
    home, session = archive
    urls = sample_urls(session)
    target = tmp_path / "articles.wacz"

    summary = build_package(session, home, target, urls=urls, title="Three articles")

    assert wacz_validate(target) == 0
    assert summary.output == target and summary.pages == 3 and summary.missing == []
    assert summary.bytes == target.stat().st_size
    assert summary.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    with zipfile.ZipFile(target) as package:
        names = set(package.namelist())
        assert {
            "archive/data.warc.gz",
            "indexes/index.cdx.gz",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json",
        } <= names
        # The WARC is stored, not deflated again, so a reader can seek into it.
        assert package.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        pages = [json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()]
        datapackage = json.loads(package.read("datapackage.json"))
        for resource in datapackage["resources"]:
            digest = hashlib.sha256(package.read(resource["path"])).hexdigest()
            assert resource["hash"] == f"sha256:{digest}"
        digest = json.loads(package.read("datapackage-digest.json"))
        assert (
            digest["hash"]
            == "sha256:" + hashlib.sha256(package.read("datapackage.json")).hexdigest()
        )
    assert pages[0]["format"] == "json-pages-1.0" and pages[0]["title"] == "Three articles"
    titles = {page["url"]: page["title"] for page in pages[1:]}
    assert sorted(titles) == sorted(urls)
    notice = announcement(session)
    assert titles[notice["url"]] == notice["title"]
    assert all(page["ts"].endswith("Z") for page in pages[1:])
    assert datapackage["title"] == "Three articles"


def test_package_records_are_the_archives_bytes(archive, tmp_path):
    home, session = archive
    urls = sample_urls(session)
    target = tmp_path / "articles.wacz"
    summary = build_package(session, home, target, urls=urls)
    with zipfile.ZipFile(target) as package:
        members = warc_members(package.read("archive/data.warc.gz"))

    assert members[0][0] == "warcinfo"  # the package's own, then the copies
    copied = members[1:]
    assert len(copied) == summary.records
    by_id = {}
    for record_type, headers, data in copied:
        if record_type == "request":
            capture = session.scalar(
                select(Capture).where(Capture.record_id == headers["WARC-Concurrent-To"])
            )
            assert capture is not None
            assert data == archived_member(home, capture, request=True)
        else:
            capture = session.scalar(
                select(Capture).where(Capture.record_id == headers["WARC-Record-ID"])
            )
            assert capture is not None
            assert data == archived_member(home, capture)
            by_id[capture.record_id] = capture
    # Every revisit comes with the record holding its payload.
    for capture in by_id.values():
        if capture.record_type == "revisit":
            assert capture.refers_to is not None
            assert capture.refers_to.record_id in by_id
    # The attachments and images the latest versions name are in.
    packaged_urls = {capture.url for capture in by_id.values()}
    notice = announcement(session)
    assert {a["url"] for a in notice["attachments"]} <= packaged_urls
    assert {i["url"] for i in with_images(session)["images"]} <= packaged_urls


def pywb_bin() -> Path:
    configured = os.environ.get("PYWB_BIN")
    if configured:
        return Path(configured)
    found = shutil.which("wb-manager")
    if found:
        return Path(found).parent
    pytest.skip("pywb not found: set PYWB_BIN to the bin/ of a virtualenv with pywb and webtest")


def pywb_replay(wacz: Path, workdir: Path, paths: list[str]) -> list[dict]:
    """Add the package to a new pywb collection with pywb's own wb-manager, then request the
    paths from pywb's WSGI app."""
    tools = pywb_bin()

    def run(*command: str) -> None:
        subprocess.run(command, cwd=workdir, check=True, capture_output=True, timeout=120)

    run(str(tools / "wb-manager"), "init", "coll")
    run(str(tools / "wb-manager"), "add", "--unpack-wacz", "coll", str(wacz))
    out = workdir / "replies.json"
    run(str(tools / "python"), "-c", PYWB_REPLAY, str(out), *paths)
    return json.loads(out.read_text())


def replayed_content(reply: dict) -> bytes:
    """The body as a browser sees it: pywb may pass the stored Content-Encoding through."""
    body = base64.b64decode(reply["body"])
    encoding = next((v for k, v in reply["headers"] if k.lower() == "content-encoding"), None)
    return decode_content(body, encoding)


def test_pywb_replays_a_page_and_its_attachment_as_captured(archive, tmp_path):
    home, session = archive
    notice = announcement(session)
    pdf_url = notice["attachments"][0]["url"]
    target = tmp_path / "notice.wacz"
    build_package(session, home, target, urls=[notice["url"]])
    with zipfile.ZipFile(target) as package:
        page = json.loads(package.read("pages/pages.jsonl").splitlines()[1])
    page_ts = iso_date_to_timestamp(page["ts"])
    pdf_ts = get_snapshot(session, home, pdf_url).capture.fetched_at.strftime("%Y%m%d%H%M%S")
    workdir = tmp_path / "pywb"
    workdir.mkdir()

    replies = pywb_replay(
        target,
        workdir,
        [f"/coll/{page_ts}id_/{notice['url']}", f"/coll/{pdf_ts}id_/{pdf_url}"],
    )

    assert [reply["status"] for reply in replies] == [200, 200]
    assert replayed_content(replies[0]) == get_snapshot(session, home, notice["url"]).content
    assert replayed_content(replies[1]) == get_snapshot(session, home, pdf_url).content
    assert replayed_content(replies[1]).startswith(b"%PDF")


def test_package_by_window_holds_the_versions_first_seen_in_it(archive, tmp_path):
    home, session = archive
    first, second = session.scalars(select(CrawlRun).order_by(CrawlRun.id).limit(2))
    assert first.finished_at is not None and second.finished_at is not None
    target = tmp_path / "window.wacz"

    summary = build_package(session, home, target, since=first.started_at, until=first.finished_at)

    versions = session.scalar(select(func.count()).select_from(ArticleVersion))
    assert summary.pages == versions
    assert wacz_validate(target) == 0
    # The --full crawl found nothing new.
    with pytest.raises(ArticleNotFound):
        build_package(
            session, home, tmp_path / "none.wacz", since=second.started_at, until=second.finished_at
        )
    assert not (tmp_path / "none.wacz").exists()
    # Named articles and a window: those articles' versions first seen in it.
    notice = announcement(session)["url"]
    summary = build_package(
        session, home, tmp_path / "notice.wacz", urls=[notice], since=first.started_at
    )
    assert summary.pages == 1
    with pytest.raises(ArticleNotFound):
        build_package(
            session, home, tmp_path / "x.wacz", urls=["http://example.com/"], since=first.started_at
        )


def test_package_refuses_what_it_cannot_build(archive, tmp_path):
    home, session = archive
    with pytest.raises(ArticleNotFound):
        build_package(session, home, tmp_path / "x.wacz", urls=["http://example.com/nowhere"])
    with pytest.raises(PackageError):
        build_package(session, home, tmp_path / "x.zip", urls=sample_urls(session)[:1])
    with pytest.raises(PackageError):
        build_package(session, home, tmp_path / "x.wacz")
    assert list(tmp_path.iterdir()) == []


def test_package_refuses_a_damaged_record(crawled, tmp_path):
    shutil.copytree(crawled.home, tmp_path / "home")
    home = ArchiveHome.at(tmp_path / "home")
    engine = open_reader(home)
    session = session_factory(engine)()
    try:
        notice = announcement(session)
        capture = get_snapshot(session, home, notice["attachments"][0]["url"]).capture
        warc = home.warc_dir / capture.warc_file.name
        data = bytearray(warc.read_bytes())
        data[capture.offset + capture.length // 2] ^= 0xFF
        warc.write_bytes(bytes(data))

        with pytest.raises(SnapshotCorrupt, match=capture.warc_file.name):
            build_package(session, home, tmp_path / "x.wacz", urls=[notice["url"]])
    finally:
        session.close()
        engine.dispose()
    assert not (tmp_path / "x.wacz").exists()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr, result.stdout


def test_package_command(archive, crawled, tmp_path):
    _home, session = archive
    target = tmp_path / "cli.wacz"
    url = announcement(session)["url"]
    code, _err, out = invoke(
        "package", "--home", str(crawled.home), "--url", url, "-o", str(target)
    )
    assert code == 0
    assert out.startswith("1 pages, ") and hashlib.sha256(target.read_bytes()).hexdigest() in out

    # A bare --until date includes that whole day.
    today = datetime.now(UTC).date().isoformat()
    code, _err, out = invoke(
        "package",
        "--home",
        str(crawled.home),
        "--since",
        "2000-01-01",
        "--until",
        today,
        "-o",
        str(tmp_path / "all.wacz"),
    )
    versions = session.scalar(select(func.count()).select_from(ArticleVersion))
    assert code == 0 and out.startswith(f"{versions} pages, ")

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    code, err, _out = invoke(
        "package", "--home", str(crawled.home), "--until", yesterday, "-o", str(target)
    )
    assert code == 1 and err.startswith("Error: no article version first seen")
    assert len(err.strip().splitlines()) == 1

    code, err, _out = invoke("package", "--home", str(crawled.home), "-o", str(target))
    assert code == 4 and "--url" in err


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/cron.d/evil", "is an absolute path"),
        ("../../.bashrc", "climbs out with '..'"),
        ("pages/../../evil.jsonl", "climbs out with '..'"),
        ("..\\..\\evil.txt", "climbs out with '..'"),
        ("C:/Windows/evil.dll", "is an absolute path"),
        ("\\\\server\\share\\evil", "is an absolute path"),
    ],
)
def test_a_package_whose_member_would_land_outside_is_refused(archive, tmp_path, name, reason):
    """Zip-slip: a package is read back only when every member name is a plain relative
    path, and the refusal is one line naming the member."""
    home, session = archive
    target = tmp_path / "notice.wacz"
    build_package(session, home, target, urls=[announcement(session)["url"]])
    assert len(package_pages(target)) == 1
    with zipfile.ZipFile(target, "a") as package:
        package.writestr(zipfile.ZipInfo(name), b"evil")
    assert zipfile.ZipFile(target).namelist()[-1] == name
    with pytest.raises(UnsafePackage) as refused:
        package_pages(target)
    message = str(refused.value)
    assert message == f"{target}: refused: member {name!r} {reason}"
    assert "\n" not in message


def test_a_package_holding_a_symbolic_link_is_refused(archive, tmp_path):
    home, session = archive
    target = tmp_path / "notice.wacz"
    build_package(session, home, target, urls=[announcement(session)["url"]])
    link = zipfile.ZipInfo("archive/link.warc.gz")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(target, "a") as package:
        package.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafePackage, match="'archive/link.warc.gz' is a symbolic link"):
        package_pages(target)


def test_a_name_that_resolves_outside_through_a_link_on_disk_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    (unpack / "pages").symlink_to(outside)
    assert unsafe_member_reason("pages/pages.jsonl", unpack) == (
        "resolves outside the package's folder"
    )
    assert unsafe_member_reason("indexes/index.cdx.gz", unpack) is None
