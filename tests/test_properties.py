"""Property tests: extraction and normalization take any input and return a record or a
reason, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalco_crawler.items import Extraction
from pipelines.extraction import extract_article
from pipelines.normalization import clean_whitespace, normalize, parse_published

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of real pages, so that generated documents reach the interesting code paths.
FRAGMENTS = [
    "<html>",
    "<head>",
    '<meta charset="gb2312">',
    '<meta charset="utf-8">',
    '<meta name="ArticleTitle" content="标题">',
    '<meta name="PubDate" content="2026-02-04">',
    "<body>",
    '<div class="content-title">',
    '<div class="content-info">',
    "<h1>",
    '<div class="content-con">',
    "<p>",
    "</p>",
    "</div>",
    "<span>",
    "来源：",
    "来源:",
    "时间：",
    "时间:2026-02-03",
    "作者：",
    "附件：",
    '<a href="./P020260204123.pdf">',
    '<a href="../../etc/passwd">',
    "</a>",
    '<img src="./W020260204.jpg">',
    "\u3000\u3000",
    "&nbsp;",
    "\x00",
    "<script>",
    "</script>",
    "2026-02-03 15:27:51",
    "中铝股份",
    "。",
    "<!--",
    "-->",
    "<![CDATA[",
    "\ufeff",
    "\u202e",
    "<table><tr><td>",
    "</body></html>",
]

documents = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=40)
encodings = st.sampled_from(["utf-8", "gb18030", "latin-1", "utf-16"])
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "text/html",
            "text/html; charset=gb2312",
            "text/html; charset=utf-8",
            "text/html; charset=bogus",
            "application/pdf",
        ]
    ),
    st.text(max_size=30),
)


def check(extraction: Extraction) -> None:
    assert isinstance(extraction, Extraction)
    assert isinstance(extraction.problems, list)
    if extraction.title is None or extraction.body_text is None:
        assert extraction.problems, "a missing field must come with a reason"
    normalized = normalize(extraction)
    assert isinstance(normalized.problems, list)


@SETTINGS
@given(st.binary(max_size=4000), content_types)
def test_any_bytes_give_a_record_or_a_reason(body, content_type):
    check(
        extract_article(
            body, "http://127.0.0.1/xwdt/gsyw/t20260204_1.html", content_type=content_type
        )
    )


@SETTINGS
@given(documents, encodings, content_types)
def test_any_page_like_document_gives_a_record_or_a_reason(parts, encoding, content_type):
    body = "".join(parts).encode(encoding, "replace")
    check(extract_article(body, "http://127.0.0.1/a/b/t20260204_1.html", content_type=content_type))


@SETTINGS
@given(
    st.one_of(st.none(), st.text(max_size=60)),
    st.sampled_from(["Asia/Shanghai", "UTC", "No/Such_Zone"]),
)
def test_any_date_text_parses_or_gives_none(raw, zone):
    result = parse_published(raw, zone)
    assert result is None or result[:4].isdigit()


@SETTINGS
@given(st.text(max_size=300))
def test_clean_whitespace_is_idempotent_and_keeps_the_visible_text(text):
    cleaned = clean_whitespace(text)
    assert clean_whitespace(cleaned) == cleaned
    assert "" not in cleaned.split("\n") or cleaned == ""
