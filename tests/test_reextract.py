"""reextract over real HTTP crawls of the replica: a crawl with a wrong site profile, then
reextract with the right one brings every article to the exact fields as new versions (cause
reextract), the old ones kept; a second run writes nothing; verify, search and the CLI
follow (stopped runs: test_reextract_stops.py); after a redesign, probe flags it and
reextract with the fitted profile gives the exact fields."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine

from archive.cli import main
from archive.read.articles import iter_articles
from archive.read.search import search
from archive.store.db import _alembic_config, open_reader, open_writer, session_factory
from archive.store.home import ArchiveHome
from archive.store.search_index import index_rowid
from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_site
from replica.site.redesign import fitted_profile_toml
from tests.conftest import CrawlResult, postgresql_database, run_crawl
from tests.test_crawl import squash

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "chalco_crawler" / "sites" / "chalco.toml"
RIGHT_TITLES = 'title = [".content-title",'
# The info line's element taken for the title: every TRS-template title comes out wrong.
WRONG_TITLES = 'title = [".content-info",'


def wrong_profile(directory: Path) -> Path:
    """The bundled chalco profile with a wrong title selector, as a file a crawl can name."""
    text = BUNDLED.read_text("utf-8")
    assert RIGHT_TITLES in text
    path = directory / "wrong.toml"
    path.write_text(text.replace(RIGHT_TITLES, WRONG_TITLES), "utf-8")
    return path


@dataclass
class Run:
    code: int
    summary: dict[str, Any]
    stdout: str
    stderr: str


def reextract_command(home: Path, *args: str) -> list[str]:
    """What `chalco-archive reextract` runs."""
    return [sys.executable, "-m", "pipelines.reextract_run", "--home", str(home), *args]


def run_reextract(home: Path, *args: str) -> Run:
    done = subprocess.run(
        reextract_command(home, "--json", *args), capture_output=True, text=True, timeout=300
    )
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return Run(done.returncode, summary, done.stdout, done.stderr)


def records(home: Path) -> dict[str, dict[str, Any]]:
    engine = open_reader(ArchiveHome.at(home))
    try:
        with session_factory(engine)() as session:
            return {record["url"]: record for record in iter_articles(session)}
    finally:
        engine.dispose()


def query(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{home / 'archive.sqlite3'}?mode=ro", uri=True) as database:
        return database.execute(sql, params).fetchall()


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def assert_exact(found: dict[str, dict[str, Any]], site: ReplicaSite, base_url: str) -> None:
    """Every live article as the replica's truth says (as test_crawl checks a crawl)."""
    live = site.live_articles()
    assert len(found) == len(live)
    for truth in live:
        url = base_url + truth.url_path.lstrip("/")
        record = found[url]
        assert record["title"] == truth.title, url
        assert record["source"] == truth.source, url
        assert record["author"] == truth.author, url
        assert record["published"] == truth.published, url
        assert squash(record["body"]) == squash("\n".join(truth.paragraphs)), url
        assert [(a["url"], a["name"], a["sha256"]) for a in record["attachments"]] == [
            (base_url + f.url_path.lstrip("/"), f.name, f.sha256) for f in truth.attachments
        ], url
        assert sorted((i["url"], i["sha256"]) for i in record["images"]) == sorted(
            (base_url + f.url_path.lstrip("/"), f.sha256) for f in truth.images
        ), url


@dataclass
class Fixed:
    home: Path
    base_url: str
    site: ReplicaSite
    crawl: CrawlResult
    before: dict[str, dict[str, Any]]
    """The export after the wrong crawl."""
    versions_before: int
    head_before: str
    dry: Run
    versions_after_dry: int
    head_after_dry: str
    first: Run
    after: dict[str, dict[str, Any]]
    second: Run
    versions_after_second: int


def ledger_head(home: Path) -> str:
    return cli("verify", "--ledger-head", "--home", str(home))[1].strip()


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Fixed:
    work = tmp_path_factory.mktemp("reextract")
    home = work / "home"
    site = build_site()
    with ReplicaServer(site) as server:
        crawl = run_crawl(home, server.base_url, "--site", str(wrong_profile(work)))
        base_url = server.base_url
    # From here on no network: the replica is down.
    (versions_before,) = query(home, "select count(*) from article_versions")[0]
    before, head_before = records(home), ledger_head(home)
    dry = run_reextract(home, "--dry-run")
    (versions_after_dry,) = query(home, "select count(*) from article_versions")[0]
    head_after_dry = ledger_head(home)
    first = run_reextract(home)
    after = records(home)
    second = run_reextract(home)
    (versions_after_second,) = query(home, "select count(*) from article_versions")[0]
    return Fixed(
        home,
        base_url,
        site,
        crawl,
        before,
        versions_before,
        head_before,
        dry,
        versions_after_dry,
        head_after_dry,
        first,
        after,
        second,
        versions_after_second,
    )


def wrong_titles(fixed: Fixed) -> list[str]:
    return [
        url
        for url, record in fixed.before.items()
        if record["title"] != fixed.site.article(url.removeprefix(fixed.base_url[:-1])).title
    ]


def test_the_wrong_profile_gave_wrong_titles(fixed):
    assert fixed.crawl.exit_code == 0, fixed.crawl.stderr  # the replica's 404 is a dead link
    wrong = wrong_titles(fixed)
    assert len(wrong) >= len(fixed.before) * 3 // 4
    assert all(fixed.before[url]["title"].startswith("来源") for url in wrong)


def test_the_dry_run_counts_per_field_with_examples_and_writes_nothing(fixed):
    assert fixed.dry.code == 0, fixed.dry.stderr
    summary = fixed.dry.summary
    assert summary["dry_run"] and summary["written"] == 0
    assert summary["fields"]["title"] == len(wrong_titles(fixed))
    # Member-template pages have their title in an <h1>: the wrong selector missed nothing.
    assert summary["changed"] == len(wrong_titles(fixed))
    assert summary["considered"] == len(fixed.before)
    (example, *_rest) = summary["examples"]["title"]
    truth = fixed.site.article(example["url"].removeprefix(fixed.base_url[:-1]))
    assert example["old"].startswith("来源") and example["new"] == truth.title
    assert len(summary["examples"]["title"]) == 3
    assert fixed.versions_after_dry == fixed.versions_before
    assert fixed.head_after_dry == fixed.head_before


def test_the_dry_run_prints_a_table_of_fields(fixed):
    done = subprocess.run(
        reextract_command(fixed.home, "--dry-run", "--site", "chalco", "--examples", "1"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dry run: 0 of ")  # fixed by now
    assert not done.stderr  # no progress without a terminal


def test_reextract_brings_every_article_to_the_exact_fields(fixed):
    assert fixed.first.code == 0, fixed.first.stderr
    wrong = wrong_titles(fixed)
    assert fixed.first.summary["written"] == len(wrong)
    assert_exact(fixed.after, fixed.site, fixed.base_url)
    assert all(
        record["version"] == (2 if url in wrong else 1) for url, record in fixed.after.items()
    )


def test_the_new_versions_say_reextract_and_the_old_ones_stay(fixed):
    rows = query(
        fixed.home,
        "select a.url, v.number, v.cause, v.extractor_version, v.title, v.is_latest"
        " from article_versions v join articles a on a.id = v.article_id order by a.url, v.number",
    )
    by_url: dict[str, list[tuple[Any, ...]]] = {}
    for url, *rest in rows:
        by_url.setdefault(url, []).append(tuple(rest))
    extractors = set(fixed.first.summary["extractors"].values())
    wrong = wrong_titles(fixed)
    for url, versions in by_url.items():
        if url not in wrong:
            assert [version[:2] for version in versions] == [(1, "crawl")]
            continue
        (number1, cause1, made1, title1, latest1), (number2, cause2, made2, _t, latest2) = versions
        assert (number1, cause1, latest1) == (1, "crawl", 0)
        assert title1 == fixed.before[url]["title"]  # as the wrong crawl read it
        assert made1 is not None and made1 not in extractors  # the wrong profile's rules
        assert (number2, cause2, latest2) == (2, "reextract", 1)
        assert made2 in extractors


def test_a_second_run_writes_nothing(fixed):
    assert fixed.second.code == 0, fixed.second.stderr
    summary = fixed.second.summary
    assert summary["written"] == summary["changed"] == 0
    # Read by this extraction: the versions it wrote; the others it read and found equal.
    wrong = wrong_titles(fixed)
    assert summary["known"] == len(wrong)
    assert summary["read"] == len(fixed.before) - len(wrong)
    assert fixed.versions_after_second == fixed.versions_before + len(wrong)


def test_verify_passes_and_sees_the_cause_and_extractor_edited(fixed, tmp_path):
    code, out = cli("verify", "--home", str(fixed.home))
    assert code == 0, out
    for edit in (
        "update article_versions set cause = 'crawl' where id = (select max(id) from"
        " article_versions)",
        "update article_versions set extractor_version = null where id = (select max(id)"
        " from article_versions)",
    ):
        copy = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(fixed.home, copy)
        with sqlite3.connect(copy / "archive.sqlite3") as database:
            database.execute(edit)
        code, out = cli("verify", "--home", str(copy))
        assert code == 1
        assert "the cause and extractor of version" in out and "was edited" in out


def test_search_finds_the_new_text_not_the_old(fixed):
    # Every version is in the index (search would otherwise scan, slowly but right).
    for version_id, published in query(fixed.home, "select id, published from article_versions"):
        rowid = index_rowid(version_id, published)
        for table in ("search_index", "search_title"):
            assert query(fixed.home, f"select count(*) from {table} where rowid = ?", rowid) == [
                (1,)
            ]
    engine = open_reader(ArchiveHome.at(fixed.home))
    try:
        with session_factory(engine)() as session:
            # The wrong titles were the 来源/时间 line, which no title or body holds now.
            assert search(session, "时间：", limit=None) == []
            old = search(session, "时间：", limit=None, all_versions=True)
            assert {hit.version for hit in old} == {1}
            truth = fixed.site.live_articles()[0]
            hits = search(session, truth.title, limit=None)
            url = fixed.base_url + truth.url_path.lstrip("/")
            assert (url, 2) in [(hit.url, hit.version) for hit in hits]
    finally:
        engine.dispose()


def test_versions_and_diff_show_the_cause(fixed):
    url = wrong_titles(fixed)[0]
    code, out = cli("versions", url, "--home", str(fixed.home), "--format", "jsonl")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["version"], r["cause"]) for r in rows] == [(1, "crawl"), (2, "reextract")]
    assert rows[1]["extractor_version"] in fixed.first.summary["extractors"].values()
    code, out = cli("diff", url, "--home", str(fixed.home))
    assert code == 0, out
    assert f"{url} version 1 (crawl, extractor " in out
    assert f"{url} version 2 (reextract, extractor " in out
    assert f"+标题：{fixed.after[url]['title']}" in out


def test_since_and_site_select_what_is_read(fixed):
    later = run_reextract(fixed.home, "--dry-run", "--since", "2999-01-01")
    assert later.code == 0 and later.summary["considered"] == 0
    earlier = run_reextract(fixed.home, "--dry-run", "--since", "2000-01-01T00:00:00+08:00")
    assert earlier.summary["considered"] == len(fixed.before)
    other = run_reextract(fixed.home, "--dry-run", "--site", "zzly")
    assert other.code == 0 and other.summary["considered"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nosuchsite"], "no site profile named 'nosuchsite'"),
        (["--since", "yesterday"], "--since takes an ISO date"),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_4(fixed, args, message):
    done = subprocess.run(reextract_command(fixed.home, *args), capture_output=True, text=True)
    assert done.returncode == 4
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_verb_checks_since_itself(fixed):
    code, out = cli("reextract", "--home", str(fixed.home), "--since", "yesterday")
    assert code == 4 and "--since takes an ISO date" in out


def test_reextract_refuses_a_home_in_use(fixed):
    from archive.store.writer.durability import HomeLock

    lock = HomeLock(ArchiveHome.at(fixed.home))
    try:
        done = subprocess.run(reextract_command(fixed.home), capture_output=True, text=True)
    finally:
        lock.release()
    assert done.returncode == 3 and "in use" in done.stderr


def test_after_a_crawl_with_the_same_profile_nothing_is_read(crawled):
    run = run_reextract(crawled.home, "--dry-run")
    assert run.code == 0, run.stderr
    assert run.summary["known"] == run.summary["considered"] > 0
    assert run.summary["changed"] == 0


# On PostgreSQL -----------------------------------------------------------------------------


def test_reextract_on_postgresql(tmp_path):
    with postgresql_database() as url:
        home = tmp_path / "home"
        site = build_site()
        env = dict(os.environ, CHALCO_ARCHIVE_DB=url)
        with ReplicaServer(site) as server:
            crawl = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "chalco_crawler.run",
                    "--home",
                    str(home),
                    "--base-url",
                    server.base_url,
                    "--site",
                    str(wrong_profile(tmp_path)),
                    "-s",
                    "DOWNLOAD_DELAY=0",
                    "-s",
                    "AUTOTHROTTLE_ENABLED=False",
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            base_url = server.base_url
        assert crawl.returncode == 0, crawl.stderr
        done = subprocess.run(
            reextract_command(home, "--json"), capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["written"] > len(site.live_articles()) // 2
        archive_home = ArchiveHome.at(home, url)
        engine = open_reader(archive_home)
        try:
            with session_factory(engine)() as session:
                found = {record["url"]: record for record in iter_articles(session)}
                assert_exact(found, site, base_url)
                assert search(session, "时间：", limit=None) == []
                truth = site.live_articles()[0]
                assert [hit.version for hit in search(session, truth.title)][:1] == [2]
        finally:
            engine.dispose()
        code, out = cli("--db", url, "verify", "--home", str(home))
        assert code == 0, out


# With probe: the first crawl after a redesign --------------------------------------------


def test_a_redesign_probe_flags_then_reextract_with_the_fixed_profile_gives_exact_fields(
    tmp_path,
):
    """The acceptance of issue 15: crawl the redesigned replica with the bundled profile,
    probe flags it (exit 1), the profile is fixed, reextract brings every article to the exact
    fields as new versions, the crawl's kept; probe then fits, and reextract again writes
    nothing."""
    from tests.test_probe import probe

    home = tmp_path / "home"
    site = build_site(template="redesign")
    with ReplicaServer(site) as server:
        # Past the first crawl's probe, which would archive nothing (issue 23): the run
        # archives every page misread and says so with exit 7.
        crawl = run_crawl(home, server.base_url, "--no-probe")
        assert crawl.exit_code == 7, crawl.stderr
        base_url = server.base_url
        misread = records(home)
        assert all(
            record["title"] != site.article(url.removeprefix(base_url[:-1])).title
            for url, record in misread.items()
        )
        flagged = probe(home, base_url)
        assert flagged.exit_code == 1, flagged.stderr
        (home / "sites").mkdir()
        (home / "sites" / "chalco.toml").write_text(fitted_profile_toml(), "utf-8")
        fitted = probe(home, base_url)
        assert fitted.exit_code == 0, fitted.stdout
    # No network from here on: the archived pages are read again.
    fix = run_reextract(home)
    assert fix.code == 0, fix.stderr
    assert fix.summary["written"] == len(misread)
    fixed_records = records(home)
    assert_exact(fixed_records, site, base_url)
    assert all(record["version"] == 2 for record in fixed_records.values())
    causes = query(
        home,
        "select v.number, v.cause, count(*) from article_versions v group by v.number, v.cause",
    )
    assert causes == [(1, "crawl", len(misread)), (2, "reextract", len(misread))]
    again = run_reextract(home)
    assert again.code == 0 and again.summary["written"] == 0
    assert again.summary["known"] == len(misread)
    code, out = cli("verify", "--home", str(home))
    assert code == 0, out


def test_down_past_0014_and_up_again_keeps_the_causes(fixed, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(fixed.home, home)
    causes = query(home, "select id, cause, extractor_version from article_versions order by id")
    url = f"sqlite:///{home}/archive.sqlite3"
    engine = create_engine(url)
    with engine.begin() as connection:
        config = _alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    engine.dispose()
    open_writer(ArchiveHome.at(home)).dispose()  # up again, as the next crawl does
    assert (
        query(home, "select id, cause, extractor_version from article_versions order by id")
        == causes
    )
    code, out = cli("verify", "--home", str(home))
    assert code == 0, out
