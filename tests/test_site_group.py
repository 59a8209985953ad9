"""The site group: the main site and a member site crawled in one run, each article with its
site, shared stories linked; a profile added as a data file is crawled without code."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.read.articles import iter_articles
from archive.read.versions import same_story
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from replica.server import ReplicaServer
from replica.site.build import build_group
from tests.conftest import run_crawl

WHITESPACE = re.compile(r"\s+")
PROFILES = Path(__file__).resolve().parent.parent / "chalco_crawler" / "sites"


def squash(text: str | None) -> str:
    return WHITESPACE.sub("", text or "")


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    chalco, member = build_group()
    with (
        ReplicaServer(chalco) as main_server,
        ReplicaServer(member, host="localhost") as member_server,
    ):
        home = tmp_path_factory.mktemp("group")
        result = run_crawl(
            home,
            f"chalco={main_server.base_url}",
            "--site",
            "chalco",
            "--site",
            "zzly",
            "--base-url",
            f"zzly={member_server.base_url}",
        )
        engine = open_reader(ArchiveHome.at(home))
        session = session_factory(engine)()
        yield home, result, main_server, member_server, session
        session.close()
        engine.dispose()


def test_both_sites_are_archived_with_exact_fields_and_their_site(group):
    _home, result, main_server, member_server, session = group
    assert result.exit_code == 0, result.stderr  # the main replica's 404: a dead link
    assert [d["reason"] for d in result.summary["dead_links"]] == ["HTTP 404"]
    records = {r["url"]: r for r in iter_articles(session)}
    expected = 0
    for server, site in ((main_server, "chalco"), (member_server, "zzly")):
        for truth in server.site.live_articles():
            expected += 1
            record = records[server.base_url + truth.url_path.lstrip("/")]
            assert record["site"] == site
            assert (record["title"], record["source"], record["author"], record["published"]) == (
                truth.title,
                truth.source,
                truth.author,
                truth.published,
            )
            assert squash(record["body"]) == squash("\n".join(truth.paragraphs))
            assert sorted(record["sections"]) == sorted(truth.sections)
    assert len(records) == expected


def test_shared_stories_are_linked(group):
    _home, _result, main_server, member_server, session = group
    assert member_server.site.shared_stories
    for member_path, main_path in member_server.site.shared_stories:
        others = same_story(session, member_server.base_url + member_path.lstrip("/"))
        assert [o["url"] for o in others] == [main_server.base_url + main_path.lstrip("/")]
        assert others[0]["site"] == "chalco"
    unshared = next(
        a
        for a in member_server.site.live_articles()
        if a.url_path not in {m for m, _ in member_server.site.shared_stories}
    )
    assert same_story(session, member_server.base_url + unshared.url_path.lstrip("/")) == []


def test_nothing_outside_the_two_hosts_was_requested(group):
    _home, _result, main_server, member_server, _session = group
    for server in (main_server, member_server):
        host = urlsplit(server.base_url).netloc
        assert server.requests
        assert {r.host_header for r in server.requests} == {host}


def test_a_profile_added_as_a_data_file_is_crawled(tmp_path):
    _chalco, member = build_group()
    home = tmp_path / "home"
    (home / "sites").mkdir(parents=True)
    profile = (PROFILES / "zzly.toml").read_text("utf-8")
    profile = profile.replace('name = "zzly"', 'name = "newmember"').replace(
        'title = "中州铝业"', 'title = "新成员"'
    )
    (home / "sites" / "newmember.toml").write_text(profile, "utf-8")
    with ReplicaServer(member) as server:
        result = run_crawl(home, server.base_url, "--site", "newmember")
    assert result.exit_code == 0, result.stderr
    engine = open_reader(ArchiveHome.at(home))
    with session_factory(engine)() as session:
        records = list(iter_articles(session))
    engine.dispose()
    assert len(records) == len(member.live_articles())
    assert {r["site"] for r in records} == {"newmember"}
