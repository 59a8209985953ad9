"""`chalco-archive probe` over real HTTP: the replica fits the bundled profile, the redesigned
replica does not (until a fitted profile is given), an unreachable site exits 5, challenge
pages are flagged; robots.txt and the request budget hold, and nothing is written."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from replica.faults import FaultServer
from replica.faults.challenges import script_only_page
from replica.server import ReplicaServer
from replica.site.build import build_site
from replica.site.redesign import fitted_profile_toml
from tests.conftest import FAST


@dataclass
class ProbeResult:
    exit_code: int
    report: dict[str, Any]
    stdout: str
    stderr: str

    @property
    def site(self) -> dict[str, Any]:
        return self.report["sites"][0]

    def samples(self) -> list[dict[str, Any]]:
        return [s for section in self.site["sections"] for s in section["samples"]]

    def messages(self, level: str = "warn") -> list[str]:
        return [f["message"] for f in self.site["flags"] if f["level"] == level]


def probe(home: Path, base_url: str, *extra: str, fmt: str = "json") -> ProbeResult:
    """`chalco-archive probe` as a user runs it."""
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", "probe", "--home", str(home)]
        + ["--base-url", base_url, "--format", fmt, *FAST, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(completed.stdout) if fmt == "json" and completed.stdout.strip() else {}
    return ProbeResult(completed.returncode, report, completed.stdout, completed.stderr)


@dataclass
class Probed:
    server: ReplicaServer
    result: ProbeResult
    home: Path
    paths: list[str]
    """The requests the server saw during the probe."""


@pytest.fixture(scope="module")
def standard(replica: ReplicaServer, tmp_path_factory) -> Probed:
    start = len(replica.requests)
    home = tmp_path_factory.mktemp("probe") / "home"
    result = probe(home, replica.base_url)
    return Probed(replica, result, home, [r.path for r in replica.requests[start:]])


@pytest.fixture(scope="module")
def redesigned() -> Iterator[ReplicaServer]:
    with ReplicaServer(build_site(template="redesign")) as server:
        yield server


def test_the_replica_fits_the_bundled_profile(standard):
    server, result = standard.server, standard.result
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.site["fits"] and not result.messages("warn")
    sections = {s["path"]: s for s in result.site["sections"]}
    assert set(sections) == {"xwdt/gsyw", "xwdt/ggdt", "xwdt/qydt", "xwdt/mtgz", "tzzgx/thygg"}
    assert sections["xwdt/gsyw"]["pages"] == server.site.list_pages["xwdt/gsyw"]
    assert sections["xwdt/qydt"]["pages"] is None  # no pager script there: a note
    assert sections["tzzgx/thygg"]["origin"] == "extra"
    (root,) = result.site["roots"]
    assert root["path"] == "xwdt" and len(root["children"]) == 4


def test_every_sampled_article_is_read_as_the_replica_says(standard):
    server, result = standard.server, standard.result
    samples = result.samples()
    assert len(samples) == 10 and len({s["url"] for s in samples}) == 10
    for sample in samples:
        truth = server.site.article("/" + sample["final_url"].split("/", 3)[3])
        assert sample["fields"]["title"] == truth.title
        assert sample["fields"]["source"] == truth.source
        assert sample["fields"]["published"] == truth.published
        assert sample["charset"] == truth.encoding.replace("gb2312", "gb18030")
        assert set(sample["provenance"]) >= {"title", "published", "body"}
        assert sample["provenance"]["body"] != "density"


def test_the_probe_is_polite_and_small(standard):
    result = standard.result
    paths = standard.paths
    assert result.site["requests"] <= 40 and len(paths) == result.site["requests"]
    assert paths[0] == "/robots.txt"
    assert not [p for p in paths if "/private/" in p]  # the robots.txt Disallow
    assert not standard.home.exists()  # nothing written, not even the home


def test_the_request_budget_is_a_hard_limit(replica, tmp_path):
    start = len(replica.requests)
    result = probe(tmp_path / "home", replica.base_url, "-s", "PROBE_MAX_REQUESTS=8")
    assert len(replica.requests) - start <= 8
    assert len(result.samples()) == 1
    assert any("budget of 8 requests" in m for m in result.messages("note"))


def test_a_redesign_is_flagged_and_exits_1(redesigned, tmp_path):
    result = probe(tmp_path / "home", redesigned.base_url)
    assert result.exit_code == 1, result.stderr
    warnings = result.messages("warn")
    for sample in result.samples():
        url = sample["final_url"]
        mine = [f["message"] for f in result.site["flags"] if f["where"] == url]
        assert any("differs from the list's" in m for m in mine), mine
        assert "body taken by the density fallback: no body selector matched" in mine
        assert "no 来源 (source) found on the page" in mine
        assert any("meta PubDate" in m for m in mine)
        assert sample["provenance"]["title"] == "selector:h1"
    assert not result.site["fits"] and warnings
    notes = result.messages("note")
    assert any(m.startswith("no body selector matched") for m in notes)


def test_the_text_report_says_what_did_not_fit(redesigned, tmp_path):
    result = probe(tmp_path / "home", redesigned.base_url, fmt="text")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("chalco: the profile does not fit: ")
    assert any(
        line.strip().startswith("! title '公司要闻' (selector:h1) differs") for line in lines
    )
    assert any("[density]" in line for line in lines)


def test_a_fitted_profile_in_the_home_fits_the_redesign(redesigned, tmp_path):
    home = tmp_path / "home"
    (home / "sites").mkdir(parents=True)
    (home / "sites" / "chalco.toml").write_text(fitted_profile_toml(), encoding="utf-8")
    result = probe(home, redesigned.base_url)
    assert result.exit_code == 0, result.messages("warn")
    for sample in result.samples():
        truth = redesigned.site.article("/" + sample["final_url"].split("/", 3)[3])
        assert (sample["fields"]["title"], sample["fields"]["published"]) == (
            truth.title,
            truth.published,
        )
        assert sample["provenance"]["body"] == "selector:.xl-txt"


def test_an_unreachable_site_exits_5(tmp_path):
    result = probe(tmp_path / "home", "http://127.0.0.1:9/", fmt="text")
    assert result.exit_code == 5
    assert "the site cannot be reached" in result.stdout
    assert "Traceback" not in result.stderr


def test_challenge_pages_are_flagged(tmp_path):
    with FaultServer(crawl_delay=None) as server:
        server.challenge_articles = 412
        result = probe(tmp_path / "home", server.base_url, "-s", "DOWNLOAD_TIMEOUT=3")
    assert result.exit_code == 1
    samples = result.samples()
    assert samples and all(s["challenge"] for s in samples)
    assert all("HTTP 412 with a script-only body" in s["challenge"] for s in samples)
    assert sum("a challenge page, not the article" in m for m in result.messages()) == len(samples)


def test_a_challenged_home_page_is_flagged(tmp_path):
    class Challenged(ReplicaServer):
        def respond(self, method, target, headers):
            if target == "/":
                return 202, {"Content-Type": "text/html; charset=utf-8"}, script_only_page()
            return super().respond(method, target, headers)

    with Challenged(build_site(articles=40)) as server:
        result = probe(tmp_path / "home", server.base_url)
    assert result.exit_code == 1
    assert result.site["challenge"].startswith("HTTP 202 with a script-only body")
    assert result.site["sections"] == []


def test_an_unknown_profile_is_a_usage_error(tmp_path):
    result = probe(tmp_path / "home", "http://127.0.0.1:9/", "--site", "nope", fmt="text")
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: no site profile named 'nope'")


def test_an_article_url_pattern_the_profile_does_not_know_is_flagged(replica, tmp_path):
    home = tmp_path / "home"
    (home / "sites").mkdir(parents=True)
    bundled = (Path(__file__).parent.parent / "chalco_crawler" / "sites" / "chalco.toml").read_text(
        "utf-8"
    )
    (home / "sites" / "chalco.toml").write_text(
        bundled.replace("article = '/t(?P<date>", "article = '/content_(?P<date>"), "utf-8"
    )
    result = probe(home, replica.base_url)
    assert result.exit_code == 1
    unknown = [m for m in result.messages() if m.startswith("no link of the list matches")]
    assert len(unknown) == len(result.site["sections"]) == 5
    assert all("/t20" in m for m in unknown)  # an example of the links it would skip
    assert result.samples() == []


def test_a_news_root_the_site_does_not_have_is_flagged(replica, tmp_path):
    home = tmp_path / "home"
    (home / "sites").mkdir(parents=True)
    (home / "sites" / "chalco.toml").write_text(
        'name = "chalco"\nbase_url = "https://www.chalco.com.cn/"\n[news]\nroots = ["xwzx/"]\n'
        'root_labels = ["新闻中心"]\nfallback_sections = ["xwdt/gsyw/"]\n',
        "utf-8",
    )
    result = probe(home, replica.base_url)
    assert result.exit_code == 1
    warnings = result.messages()
    assert any(m.startswith("news root xwzx/ (新闻中心) is not linked") for m in warnings)
    assert any("fallback sections" in m for m in warnings)
    assert [s["path"] for s in result.site["sections"]] == ["xwdt/gsyw"]
    assert result.site["sections"][0]["origin"] == "fallback"
