"""Normalization: date forms, whitespace rules, and what normalize() makes of an Extraction."""

from __future__ import annotations

import pytest

from chalco_crawler.items import ExtractedLink, Extraction
from pipelines.normalization import clean_whitespace, normalize, parse_published


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-02-03", "2026-02-03"),
        ("2026/2/3", "2026-02-03"),
        ("2026.02.03", "2026-02-03"),
        ("2026年2月3日", "2026-02-03"),
        ("2026年02月03日 星期二", "2026-02-03"),
        ("2024-09-30 15:27:51", "2024-09-30T15:27:51+08:00"),
        ("2024-09-30 15:27", "2024-09-30T15:27:00+08:00"),
        ("2024-09-30T15:27:51", "2024-09-30T15:27:51+08:00"),
        ("2024年9月30日 15时27分", "2024-09-30T15:27:00+08:00"),
        ("2024-09-30 15：27：51", "2024-09-30T15:27:51+08:00"),
        ("时间：2026-02-03", "2026-02-03"),
        ("发布时间: 2024-09-30 15:27:51", "2024-09-30T15:27:51+08:00"),
        ("\u3000 2026-02-03\xa0", "2026-02-03"),
        ("20260203", "2026-02-03"),
    ],
)
def test_parse_published_forms(raw: str, expected: str) -> None:
    assert parse_published(raw) == expected


@pytest.mark.parametrize(
    "raw", [None, "", "时间：", "昨天", "2026-02-30", "2026-13-01", "2024-09-30 25:00", "123"]
)
def test_parse_published_gives_none_when_unreadable(raw: str | None) -> None:
    assert parse_published(raw) is None


def test_parse_published_uses_the_given_zone() -> None:
    assert parse_published("2026-07-01 08:00", "Europe/London") == "2026-07-01T08:00:00+01:00"
    assert parse_published("2026-01-01 08:00", "UTC") == "2026-01-01T08:00:00+00:00"


def test_clean_whitespace_rules() -> None:
    text = (
        "\u3000\u3000第一段，\xa0\xa0有空格。  \n\n   \n"
        "\t第二段\t\t结束。\r\n\xa0\u3000\n第三段\u200b。"
    )
    assert clean_whitespace(text) == "第一段， 有空格。\n第二段 结束。\n第三段。"


def test_clean_whitespace_keeps_full_width_punctuation() -> None:
    assert clean_whitespace("会议指出：“极致经营”（试行）！") == "会议指出：“极致经营”（试行）！"


def test_clean_whitespace_of_blank_text_is_empty() -> None:
    assert clean_whitespace(" \u3000\xa0\n\t\n") == ""


def extraction(**fields: object) -> Extraction:
    values: dict[str, object] = {
        "title": "中铝股份召开一届四次职工代表大会",
        "source_raw": "党委宣传部",
        "published_raw": "2026-02-03",
        "author_raw": None,
        "info_raw": "来源：党委宣传部时间：2026-02-03",
        "meta": {},
        "body_text": "第一段。\n第二段。",
        "body_html": "<div><p>第一段。</p><p>第二段。</p></div>",
    }
    values.update(fields)
    return Extraction(**values)  # type: ignore[arg-type]


def test_normalize_keeps_raw_beside_normalized() -> None:
    image = ExtractedLink(url="https://www.chalco.com.cn/W0.jpg", name="图为会议现场")
    article = normalize(extraction(images=[image], problems=["x"]))
    assert article.title == "中铝股份召开一届四次职工代表大会"
    assert article.source == article.source_raw == "党委宣传部"
    assert article.published == "2026-02-03"
    assert article.published_raw == "2026-02-03"
    assert article.body == "第一段。\n第二段。"
    assert article.images == [image]
    assert article.problems == ["x"]


def test_normalize_empty_source_is_none() -> None:
    article = normalize(extraction(source_raw="", author_raw="  "))
    assert article.source is None and article.source_raw == ""
    assert article.author is None


def test_normalize_flags_an_unreadable_time() -> None:
    article = normalize(extraction(published_raw="二〇二六年二月三日"))
    assert article.published is None
    assert any("not recognised" in problem for problem in article.problems)


def test_normalize_falls_back_to_meta_pubdate_and_says_so() -> None:
    article = normalize(extraction(published_raw=None, meta={"PubDate": "2026-02-04 09:12:00"}))
    assert article.published == "2026-02-04T09:12:00+08:00"
    assert any("meta PubDate" in problem for problem in article.problems)


def test_normalize_displayed_time_wins_over_meta() -> None:
    article = normalize(extraction(meta={"PubDate": "2026-02-04 09:12"}))
    assert article.published == "2026-02-03"


def test_normalize_missing_body() -> None:
    article = normalize(extraction(body_text=None, body_html=None))
    assert article.body is None
