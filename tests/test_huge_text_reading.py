"""How extraction reads a page with a huge text without copies of it (pipelines/extraction):
a UTF-8 page parsed from its own bytes, the bytes let go of once parsed, and the body's HTML
made with its huge texts lifted out of the tree and put back escaped, to the very string
the tree's own serialisation gives."""

from __future__ import annotations

import pytest
from lxml import etree
from lxml import html as lxml_html

from pipelines.extraction import body as body_module
from pipelines.extraction import extract_article
from pipelines.extraction.body import body_html_of
from pipelines.extraction.page import Page, PageBytes, markup_of, parse

URL = "http://example.com/xwdt/gsyw/202602/t20260209_1.html"
# What escaping must keep: markup characters, quotes, a no-break space, a carriage return,
# full-width punctuation, an astral character.
AWKWARD = '中铝股份，<低碳> & "绿色"\xa0\r\n𠀀 '


def page(body: str) -> bytes:
    return (
        "<html><head><meta charset='utf-8'><title>标题</title></head><body>"
        f'<div class="content-title">标题</div><div class="TRS_Editor">{body}</div>'
        "</body></html>"
    ).encode()


def read_body(markup: bytes, in_place: bool) -> str | None:
    root = parse(markup)
    assert root is not None
    from pipelines.extraction import _default_rules

    found = Page(root, URL, _default_rules())
    (node,) = found.select(".TRS_Editor")
    return body_html_of(found, node, in_place=in_place)


@pytest.mark.parametrize(
    "body",
    [
        f"<p>{AWKWARD * 50}</p>",  # a huge text
        f"<p>短<b>粗</b>{AWKWARD * 40}</p><p>{AWKWARD * 30}<br>{AWKWARD * 30}</p>",  # tails
        f'<p><a href="/x/a.pdf">附件</a>{AWKWARD * 60}</p><script>{AWKWARD}</script>',
    ],
)
def test_lifted_texts_are_put_back_as_the_tree_serialises_them(monkeypatch, body):
    markup = page(body)
    whole = read_body(markup, in_place=False)  # serialised in a copy of the tree, nothing lifted
    monkeypatch.setattr(body_module, "HUGE_TEXT", 16)  # every text here is huge
    lifted = read_body(markup, in_place=True)
    assert lifted == whole
    assert "\ue000" not in (lifted or "")


def test_a_page_holding_a_marker_is_serialised_in_the_tree(monkeypatch):
    marker = body_module._MARK.format(0)
    markup = page(f'<p title="{marker}">{AWKWARD * 20}</p>')  # in an attribute: not lifted
    whole = read_body(markup, in_place=False)
    monkeypatch.setattr(body_module, "HUGE_TEXT", 16)
    assert read_body(markup, in_place=True) == whole


def test_a_utf8_page_is_parsed_from_its_own_bytes():
    markup = page("<p>正文。</p>")
    encoding, utf8, problems = markup_of(markup, "text/html; charset=utf-8")
    assert (encoding, problems) == ("utf-8", [])
    assert utf8 is markup


@pytest.mark.parametrize(
    ("markup", "content_type", "expected"),
    [
        (page("<p>正文。</p>").replace(b"utf-8", b"gbk"), None, "正文。"),  # a charset lie
        ("<p>正文。</p>".encode("gb18030"), "text/html; charset=gbk", "正文。"),
        (page("<p>正\x01文\x00。</p>"), None, "正文。"),  # controls taken out
        (b"\xef\xbb\xbf" + page("<p>正文。</p>"), None, "正文。"),  # a byte order mark
    ],
)
def test_any_other_page_is_read_from_its_text(markup, content_type, expected):
    _encoding, utf8, _problems = markup_of(markup, content_type)
    assert utf8 is not None
    root = etree.fromstring(utf8, lxml_html.HTMLParser(encoding="utf-8"))
    assert expected in "".join(root.itertext())


def test_an_empty_page_has_no_markup():
    assert markup_of(b" \n\t ", None)[1] is None


def test_bytes_handed_over_are_taken_once_and_read_as_bytes_are():
    markup = page(f"<p>{'铝' * 2_000_000}</p>")  # past the size that is set aside
    holder = PageBytes(markup)
    extraction = extract_article(holder, URL)
    assert len(holder) == 0 and holder.take() == b""  # the holder let go of them
    assert extraction == extract_article(markup, URL)
    assert extraction.body_text == "铝" * 2_000_000


def test_the_extraction_of_a_huge_text_equals_the_trees_own_serialisation():
    markup = page(f"<p>{AWKWARD * 80_000}</p>")  # over HUGE_TEXT characters
    extraction = extract_article(markup, URL)
    assert extraction.body_html is not None
    assert extraction.body_html.count("&lt;低碳&gt; &amp; ") == 80_000
    assert extraction.body_html == read_body(markup, in_place=False)


def test_a_page_opening_with_two_byte_order_marks_reads_as_from_its_text():
    markup = b"\xef\xbb\xbf\xef\xbb\xbf" + page("<p>正文。</p>")
    _encoding, utf8, _problems = markup_of(markup, "text/html; charset=utf-8")
    assert utf8 is not markup
    root = parse(utf8 or b"")
    assert root is not None and not (root.find("body").text or "").startswith("\ufeff")
