"""Which charset a page is read in: the declaration, unless the bytes say it lies."""

from __future__ import annotations

import pytest

from pipelines.extraction import extract_article
from pipelines.extraction.charset import decode_page

TEXT = (
    "来源：党委宣传部　时间：2026-02-03\n中铝股份召开一届四次职工代表大会，审议通过《工作报告》。"
)


def page(charset_tag: str = "") -> str:
    return f"<html><head>{charset_tag}</head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize(
    ("content_type", "tag", "bytes_in", "read_as", "declared"),
    [
        ("text/html; charset=utf-8", '<meta charset="utf-8">', "gb18030", "gb18030", "utf-8"),
        ("text/html", '<meta charset="utf-8">', "gb18030", "gb18030", "utf-8"),
        ("text/html; charset=GBK", '<meta charset="gbk">', "utf-8", "utf-8", "gbk"),
        ("text/html; charset=gb2312", "", "utf-8", "utf-8", "gb2312"),
        ("text/html; charset=iso-8859-1", "", "utf-8", "utf-8", "iso-8859-1"),
    ],
)
def test_a_lying_declaration_is_overruled_by_the_charset_that_decodes(
    content_type, tag, bytes_in, read_as, declared
):
    encoding, text, problems = decode_page(page(tag).encode(bytes_in), content_type)
    assert (encoding, TEXT in text) == (read_as, True)
    assert problems == [f"declared charset {declared} does not fit the bytes; read as {read_as}"]


@pytest.mark.parametrize(
    ("content_type", "bytes_in"),
    [
        ("text/html; charset=utf-8", "utf-8"),
        ("text/html; charset=gbk", "gb18030"),
        ("text/html; charset=gb2312", "gb18030"),
        ("text/html", "utf-8"),  # undeclared: sniffed
        ("text/html", "gb18030"),
    ],
)
def test_a_true_declaration_or_none_reads_cleanly(content_type, bytes_in):
    encoding, text, problems = decode_page(page().encode(bytes_in), content_type)
    assert TEXT in text and problems == [] and encoding in ("utf-8", "gb18030")


def test_a_utf8_page_with_one_stray_byte_stays_utf8_and_is_flagged():
    body = page().encode("utf-8").replace("党委".encode(), b"\xff" + "党委".encode())
    encoding, text, problems = decode_page(body, "text/html; charset=utf-8")
    assert encoding == "utf-8" and "中铝股份召开一届四次职工代表大会" in text
    assert problems == ["page could not be decoded as utf-8; decoded with replacement characters"]


def test_a_bom_is_believed():
    body = b"\xef\xbb\xbf" + page().encode("utf-8")
    encoding, text, problems = decode_page(body, "text/html; charset=gbk")
    assert (encoding, problems) == ("utf-8", []) and TEXT in text


@pytest.mark.parametrize(("declared", "bytes_in"), [("utf-8", "gb18030"), ("gbk", "utf-8")])
def test_title_source_and_body_come_out_exact_and_the_mismatch_is_a_problem(declared, bytes_in):
    html = (
        f'<html><head><meta charset="{declared}"><title>青海分公司开展冬季设备检修</title></head>'
        '<body><div class="content-title">青海分公司开展冬季设备检修</div>'
        '<div class="content-info"><span>来源：青海分公司</span><span>时间：2026-02-02</span></div>'
        '<div class="content-con"><p>入冬以来，青海分公司组织开展冬季设备集中检修。</p>'
        "<p>此次检修为冬季安全稳定生产提供了有力保障。</p></div></body></html>"
    )
    extraction = extract_article(
        html.encode(bytes_in), "https://www.chalco.com.cn/x.html", content_type="text/html"
    )
    assert extraction.title == "青海分公司开展冬季设备检修"
    assert extraction.source_raw == "青海分公司"
    assert extraction.body_text == (
        "入冬以来，青海分公司组织开展冬季设备集中检修。\n此次检修为冬季安全稳定生产提供了有力保障。"
    )
    assert extraction.encoding == ("gb18030" if bytes_in == "gb18030" else "utf-8")
    assert f"declared charset {declared} does not fit the bytes; read as" in extraction.problems[0]
