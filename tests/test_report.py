"""The HTML report of the crawled replica: self-contained, its figures those of the archive,
and drawn by a real browser (headless Chromium) without a console error."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.read.articles import iter_articles
from archive.read.report import build_report, report
from archive.read.report_page import SECTIONS_COLOURED
from archive.read.stats import section_month_counts
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.models import Listing

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW = (1200, 1600)


@pytest.fixture
def session(crawled):
    engine = open_reader(ArchiveHome.at(crawled.home))
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def page(session):
    return build_report(session, None, None)


def section_names(session) -> dict[str, str]:
    return {
        section: name or section
        for section, name in session.execute(select(Listing.section, Listing.section_name))
    }


def figures(html: str) -> dict[str, str]:
    """Headline figures by their label: {"articles": "59", ...}."""
    doc = lxml.html.fromstring(html)
    return {
        card.find_class("label")[0].text_content(): card.find_class("value")[0].text_content()
        for card in doc.find_class("figure")
    }


def test_the_page_loads_nothing_from_anywhere(page):
    doc = lxml.html.fromstring(page)
    assert doc.get("lang") == "zh-CN"
    assert not doc.xpath("//script | //link | //iframe | //object | //embed | //img")
    assert not doc.xpath("//@src | //@srcset | //@poster | //@data")
    assert not re.search(r"\bsrc\s*=|<link\b|xlink:href", page, re.IGNORECASE)
    css = " ".join(style.text_content() for style in doc.xpath("//style"))
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert '"Noto Sans CJK SC", "WenQuanYi Micro Hei"' in css and "sans-serif" in css
    # Links to the articles are the only URLs, and only as places to go.
    assert {a.tag for a in doc.xpath("//*[@href]")} == {"a"}
    assert len(doc.xpath("//svg")) >= 3


def test_the_figures_are_those_of_the_archive(session, page):
    records = list(iter_articles(session))
    shown = figures(page)
    assert shown["articles"] == f"{len(records):,}"
    published = sorted(r["published"][:10] for r in records if r["published"])
    assert shown["first and last published"] == published[0] + published[-1]
    attachments = sum(len(r["attachments"]) for r in records)
    label = next(label for label in shown if label.startswith("attachments, "))
    assert shown[label] == f"{attachments:,}"
    assert shown["sources (来源)"] == f"{len({r['source'] for r in records if r['source']}):,}"


def test_the_sections_and_their_counts_are_those_of_the_archive(session, page):
    totals: Counter[str] = Counter()
    for row in section_month_counts(session):
        totals[row["section"]] += row["articles"]
    attachments: Counter[str] = Counter()
    for record in iter_articles(session):
        for section in record["sections"]:
            attachments[section] += len(record["attachments"])
    names = section_names(session)

    doc = lxml.html.fromstring(page)
    rows = doc.get_element_by_id("sections").xpath("./tbody/tr")
    table = {
        cells[1]: (cells[0], int(cells[2]), int(cells[3]))
        for cells in ([td.text_content() for td in row.xpath("./td")] for row in rows)
    }
    assert table == {
        section: (names[section], total, attachments[section]) for section, total in totals.items()
    }
    for name in names.values():
        assert name in page


def test_each_monthly_bar_carries_its_count(session):
    since = date(2025, 1, 1)
    page = build_report(session, since, None)
    names = section_names(session)
    counts = [r for r in section_month_counts(session) if r["month"] >= since.isoformat()[:7]]
    totals: Counter[str] = Counter()
    for row in counts:
        totals[row["section"]] += row["articles"]
    coloured = {section for section, _n in totals.most_common(SECTIONS_COLOURED)}
    tooltips = {
        title.text_content() for title in lxml.html.fromstring(page).xpath("//svg//rect/title")
    }
    expected = {
        f"{names[r['section']]} · {r['month']}: {r['articles']} articles"
        for r in counts
        if r["section"] in coloured
    }
    assert expected and expected <= tooltips


def test_since_until_and_site_narrow_the_report(session):
    records = list(iter_articles(session))
    until = date(2025, 12, 31)
    page = build_report(session, None, until)
    in_range = [r for r in records if r["published"] and r["published"][:10] <= until.isoformat()]
    assert 0 < len(in_range) < len(records)
    assert figures(page)["articles"] == f"{len(in_range):,}"
    assert "published the first article to 2025-12-31" in page

    same = build_report(session, None, None, site=records[0]["site"])
    assert figures(same)["articles"] == f"{len(records):,}"
    nothing = build_report(session, None, None, site="no-such-site")
    assert "No article in this range." in nothing and "<svg" not in nothing


def test_the_command_writes_the_page(crawled, tmp_path):
    target = tmp_path / "chalco.html"
    result = CliRunner().invoke(
        report, ["--home", str(crawled.home), "--output", str(target), "--since", "2025-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert "wrote a report of" in result.stderr

    bad = CliRunner().invoke(report, ["--home", str(crawled.home), "-o", "-", "--since", "May"])
    assert bad.exit_code != 0 and "'May' is not an ISO date" in bad.output

    missing = CliRunner().invoke(report, ["--home", str(tmp_path / "none"), "-o", "-"])
    assert missing.exit_code == 1
    assert missing.output.strip().count("\n") == 0 and "no archive in" in missing.output


# --- in a real browser ----------------------------------------------------------------------


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no Chromium binary on PATH (apt-get install -y chromium fonts-noto-cjk): "
        "the report is not drawn in a browser"
    )


def screenshot(binary: str, page: Path, png: Path, profile: Path) -> str:
    """Draw `page` in headless Chromium into `png`; returns what the browser logged."""
    completed = subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={png}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stderr


def console_messages(log: str) -> list[str]:
    # Chromium logs a page's console output as INFO:CONSOLE (ERROR:CONSOLE in older builds),
    # uncaught exceptions among them.
    return [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def png_size(png: Path) -> tuple[int, int]:
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_chromium_draws_the_report_without_an_error(page, tmp_path):
    binary = chromium()
    report_html = tmp_path / "report.html"
    report_html.write_text(page, encoding="utf-8")
    blank_html = tmp_path / "blank.html"
    blank_html.write_text('<!DOCTYPE html><html lang="zh-CN"><body></body></html>', "utf-8")

    log = screenshot(binary, report_html, tmp_path / "report.png", tmp_path / "profile")
    screenshot(binary, blank_html, tmp_path / "blank.png", tmp_path / "profile")

    assert console_messages(log) == []
    assert png_size(tmp_path / "report.png") == WINDOW
    assert png_size(tmp_path / "blank.png") == WINDOW
    # Charts, text and tables compress far worse than a blank page of the same size.
    drawn, blank = (tmp_path / "report.png").stat().st_size, (tmp_path / "blank.png").stat().st_size
    assert drawn > 5 * blank, (drawn, blank)


def test_a_script_error_would_be_seen(tmp_path):
    """The console check above can fail: a page with a script error shows in the log."""
    binary = chromium()
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>noSuchFunction();</script>", "utf-8")
    log = screenshot(binary, broken, tmp_path / "broken.png", tmp_path / "profile")
    assert any("Uncaught ReferenceError" in line for line in console_messages(log))
