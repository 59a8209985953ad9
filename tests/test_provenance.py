"""Extraction says which rule gave each field (`Extraction.provenance`), for `probe`."""

from __future__ import annotations

import pytest

from pipelines.extraction import extract_article
from replica.site.build import build_site
from replica.site.flavours import SAMPLE_PATH

HOST = "127.0.0.1:8000"


@pytest.fixture(scope="module")
def site():
    return build_site(articles=40)


def extract(site, path):
    status, headers, body = site.render(path, HOST)
    return extract_article(body, f"http://{HOST}{path}", content_type=headers["Content-Type"])


def test_the_sample_page_is_read_by_selectors(site):
    assert extract(site, SAMPLE_PATH).provenance == {
        "title": "selector:.content-title",
        "source": "selector:.content-info label:来源",
        "published": "selector:.content-info label:时间",
        "body": "selector:.content-con",
    }


def test_member_template_pages_are_read_by_labels(site):
    path = next(a.url_path for a in site.live_articles() if a.template == "member")
    provenance = extract(site, path).provenance
    assert provenance["title"] == "selector:h1"
    assert provenance["source"] == "labels:来源" and provenance["published"] == "labels:时间"
    assert provenance["author"] == "labels:作者"


def test_files_say_where_they_were_found(site):
    with_pdf = next(a.url_path for a in site.live_articles() if a.attachments)
    assert extract(site, with_pdf).provenance["attachments"] == "selector:.content-fj"
    with_image = next(a.url_path for a in site.live_articles() if a.images)
    assert extract(site, with_image).provenance["images"] == "body"


def test_the_redesign_falls_back_to_density_and_a_wrong_heading():
    redesigned = build_site(articles=40, template="redesign")
    provenance = extract(redesigned, SAMPLE_PATH).provenance
    assert provenance == {"title": "selector:h1", "body": "density"}


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            '<html><head><meta name="ArticleTitle" content="标题甲"></head><body>'
            '<div class="content-info">2026-02-03</div><div class="content-con"><p>正文内容。'
            "</p></div></body></html>",
            {
                "title": "selector:meta[name=ArticleTitle]",
                "published": "selector:.content-info date",
                "body": "selector:.content-con",
            },
        ),
        (
            "<html><head><title>标题乙_中国铝业股份有限公司</title></head><body><div>"
            "<p>第一段正文内容，足够长的一段文字，用来让密度规则选中它。</p>"
            '<p>第二段。<a href="./P020260203123.pdf">年报.pdf</a></p></div></body></html>',
            {"title": "title-tag", "body": "density", "attachments": "body links"},
        ),
        (
            "<html><body><div><h2>标题丙</h2><p>来源：办公室　时间：2026-02-03</p></div>"
            '<div class="content-con"><p>正文。</p></div>'
            '<div><p>附件：</p><p><a href="./a.pdf">a.pdf</a></p></div></body></html>',
            {
                "title": "labels:heading",
                "source": "labels:来源",
                "published": "labels:时间",
                "body": "selector:.content-con",
                "attachments": "labels:附件",
            },
        ),
    ],
)
def test_every_rule_is_named(page, expected):
    extraction = extract_article(page.encode("utf-8"), "http://example.test/a/t20260203_1.html")
    assert extraction.provenance == expected


def test_a_page_with_nothing_found_has_no_provenance():
    assert extract_article(b"", "http://example.test/").provenance == {}
