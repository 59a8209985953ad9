"""Extraction cases as data: every tests/data/pages/<case>/ page against its expected.json."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from chalco_crawler.items import Extraction
from chalco_crawler.profile import ExtractionRules
from pipelines.extraction import extract_article
from pipelines.normalization import normalize

PAGES = Path(__file__).parent / "data" / "pages"
CASES = sorted(path.name for path in PAGES.iterdir() if (path / "expected.json").is_file())


def load_case(name: str) -> tuple[bytes, dict]:
    case = PAGES / name
    expected = json.loads((case / "expected.json").read_text("utf-8"))
    return (case / "page.html").read_bytes(), expected


def test_every_variation_has_a_case() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", CASES)
def test_page(name: str) -> None:
    body, expected = load_case(name)
    extraction = extract_article(body, expected["url"], content_type=expected.get("content_type"))
    article = normalize(extraction)
    lines = article.body.split("\n") if article.body else []

    assert article.title == expected["title"]
    assert article.source == expected["source"]
    assert article.author == expected["author"]
    assert article.published == expected["published"]
    assert article.published_raw == expected["published_raw"]
    assert (lines[0] if lines else None) == expected["body_first_line"]
    assert (lines[-1] if lines else None) == expected["body_last_line"]
    assert len(lines) == expected["paragraphs"], lines
    assert [{"url": a.url, "name": a.name} for a in article.attachments] == expected["attachments"]
    assert [i.url for i in article.images] == [i["url"] for i in expected["images"]]
    for image, wanted in zip(article.images, expected["images"], strict=True):
        if "name" in wanted:
            assert image.name == wanted["name"]
    if expected["problems"]:
        for wanted in expected["problems"]:
            assert any(wanted in problem for problem in article.problems), article.problems
    else:
        assert article.problems == []

    # Optional, stricter keys some cases carry.
    if "source_raw" in expected:
        assert article.source_raw == expected["source_raw"]
    if "info_raw" in expected:
        assert extraction.info_raw == expected["info_raw"]
    if "encoding" in expected:
        assert extraction.encoding == expected["encoding"]
    if "meta_pubdate" in expected:
        assert extraction.meta.get("PubDate") == expected["meta_pubdate"]
    if "body_lines" in expected:
        assert lines == expected["body_lines"]
    for text in expected.get("body_contains", []):
        assert text in (article.body or "")


@pytest.mark.parametrize("name", CASES)
def test_boilerplate_stays_out_of_the_body(name: str) -> None:
    body, expected = load_case(name)
    text = extract_article(body, expected["url"]).body_text or ""
    for boilerplate in (
        "中铝网站群",
        "【打印本页】",
        "【关闭窗口】",
        "版权所有",
        "当前位置",
        "附件：",
    ):
        assert boilerplate not in text


def test_sample_page_fields() -> None:
    body, expected = load_case("chalco_sample")
    extraction = extract_article(body, expected["url"])
    assert extraction.meta["ArticleTitle"] == "中铝股份召开一届四次职工代表大会"
    assert extraction.meta["ContentSource"] == "党委宣传部"
    assert extraction.template.startswith("selectors:.content-title")
    assert extraction.body_html is not None
    assert "<script" not in extraction.body_html and "<style" not in extraction.body_html
    assert extraction.body_html.startswith('<div class="content-con">')
    # Full-width punctuation is kept as published.
    assert "，" in (extraction.body_text or "") and "," not in (extraction.body_text or "")


def test_body_html_links_are_absolute() -> None:
    body, expected = load_case("announcement_attachments")
    html = extract_article(body, expected["url"]).body_html or ""
    assert 'href="https://www.chalco.com.cn/tzzgx/thygg/202603/P020260327556677889900.docx"' in html
    body, expected = load_case("image_captions")
    html = extract_article(body, expected["url"]).body_html or ""
    assert 'src="https://www.chalco.com.cn/xwdt/tpxw/202601/W020260120512345678901.jpg"' in html


def test_label_rules_come_from_the_profile() -> None:
    page = "<html><body><h1>标题甲</h1><div>出处：某部门 日子：2026-02-03</div><p>正文第一段。</p>"
    rules = ExtractionRules(
        title=("h1",), source_labels=("出处",), time_labels=("日子",), author_labels=()
    )
    extraction = extract_article(page.encode(), "https://example.org/a.html", rules=rules)
    assert extraction.source_raw == "某部门"
    assert extraction.published_raw == "2026-02-03"


def test_profile_without_labels_turns_text_rules_off() -> None:
    rules = ExtractionRules(
        title=("h1",), source_labels=(), time_labels=(), author_labels=(), attachment_labels=()
    )
    page = (
        "<h1>标题</h1><div>来源：某部 时间：2026-02-03</div><p>正文第一段，足够长的文字内容。</p>"
    )
    extraction = extract_article(page.encode(), "https://example.org/a.html", rules=rules)
    assert extraction.source_raw is None and extraction.published_raw is None
    assert "publication time not found" in extraction.problems


def test_bad_profile_selector_is_skipped() -> None:
    rules = ExtractionRules(title=("h1[", "h1"), body=("::bad", "p"))
    extraction = extract_article(
        "<h1>标题</h1><p>时间：2026-02-03</p><p>正文。</p>".encode(), "https://x.org/", rules=rules
    )
    assert extraction.title == "标题"


HOSTILE = [
    b"",
    b"   \n\t ",
    b"\x00" * 100,
    b"\xff\xfe\x00<\x00h\x00",
    b"\xef\xbb\xbf",
    b"<" * 5000,
    b"<html><body>" + b"<div>" * 20000 + "来源：时间：".encode() + b"</div>" * 5,
    b"<html><head><meta charset='x-nonsense'></head><body><p>\xc3\x28</p>",
    b"<?xml version='1.0' encoding='gbk'?><html><body><p>\xd6\xd0</p></body></html>",
    b'<base href="http://[::1">' + b'<a href="http://[bad">x.pdf</a><img src="//[">',
    "<p>来源：".encode() * 2000,
    bytes(random.Random(20260203).randrange(256) for _ in range(20000)),
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_never_raises(body: bytes) -> None:
    extraction = extract_article(body, "https://www.chalco.com.cn/xwdt/gsyw/t1_1.html")
    assert isinstance(extraction, Extraction)
    assert extraction.problems
    normalize(extraction)


def test_binary_garbage_is_flagged_as_undecodable() -> None:
    body = bytes(random.Random(1).randrange(128, 256) for _ in range(5000))
    extraction = extract_article(body, "https://x.org/", content_type="text/html; charset=utf-8")
    assert any("could not be decoded as utf-8" in problem for problem in extraction.problems)


def test_gbk_content_type_decodes_as_gb18030() -> None:
    body = "<p>时间：2026-02-03</p><p>同期受表彰的还有刘䶮、𠮷星等同志，他们来自生产一线。</p>"
    body = body.encode("gb18030")
    extraction = extract_article(body, "https://x.org/", content_type="text/html; charset=GBK")
    assert extraction.encoding == "gb18030"
    assert "䶮" in (extraction.body_text or "")


def test_fast_enough() -> None:
    body, expected = load_case("chalco_sample")
    extract_article(body, expected["url"])
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        extract_article(body, expected["url"])
    per_page = (time.perf_counter() - started) / rounds
    # The budget is a few ms; the bound is loose so a slow CI machine does not fail it.
    assert per_page < 0.05, per_page


def test_caption_forms() -> None:
    page = (
        '<div class="content-title">标题</div><div class="content-info">时间：2026-02-03</div>'
        '<div class="content-con"><div class="TRS_Editor">'
        '<img src="a.jpg" alt="甲"><p style="text-align:center">图注甲</p>'
        "<p>正文很长的一段。</p>"
        '<span><img src="b.jpg"></span><br><center>图注乙</center>'
        '<p><img src="c.jpg" alt="丙"></p><p>不居中的下一段</p>'
        '<figure><img src="d.jpg" alt="丁"><figcaption>图注丁</figcaption></figure>'
        "</div></div>"
    )
    extraction = extract_article(page.encode(), "https://www.chalco.com.cn/xwdt/gsyw/")
    assert [(i.url.rsplit("/", 1)[-1], i.name) for i in extraction.images] == [
        ("a.jpg", "图注甲"),
        ("b.jpg", "图注乙"),
        ("c.jpg", "丙"),
        ("d.jpg", "图注丁"),
    ]
    assert extraction.body_text == "图注甲\n正文很长的一段。\n图注乙\n不居中的下一段\n图注丁"
