"""An attachment replaced at the same URL: a revisit finds the new bytes and gives every
article naming the file a new version that names them; the older version keeps naming the
old bytes, which stay retrievable. Later versions go on naming the new bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from archive.cli import main
from archive.db import open_reader, session_factory
from archive.home import ArchiveHome
from archive.queries import get_article, get_snapshot, iter_articles
from replica.server import ReplicaServer
from replica.site import build_site
from tests.conftest import CrawlResult, run_crawl


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
