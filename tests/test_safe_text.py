"""archive.safe_text: the rules that keep archived text inert in a spreadsheet, a browser and
a terminal, case by case (the crawl through every surface is tests/test_hostile_text.py)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archive.safe_text import (
    TerminalWriter,
    csv_cell,
    safe_href,
    terminal_bytes,
    terminal_text,
)


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", '=HYPERLINK("http://x/","y")'],
)
def test_a_cell_that_would_start_a_formula_gets_a_leading_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["中铝股份", "'=already text", " =1+1", "1-2", "a=b", "", "［公告］", "＝全角", 5, -5, None],
)
def test_other_cells_are_written_as_given(value):
    assert csv_cell(value) == value


def test_a_neutralized_cell_reads_back_with_the_csv_module():
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell('=HYPERLINK("http://x/","点击")'), csv_cell("\r=1")])
    (row,) = csv.reader(io.StringIO(out.getvalue()))
    assert row == ['\'=HYPERLINK("http://x/","点击")', "'\r=1"]


@pytest.mark.parametrize(
    "url",
    ["https://www.chalco.com.cn/xwdt/", "http://127.0.0.1:8000/a.html", "HTTPS://Example.com/"],
)
def test_http_and_https_urls_are_links(url):
    assert safe_href(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/",
        "http:evil",
        "/relative/path.html",
        "http://[::1",
        "",
        None,
    ],
)
def test_anything_else_is_no_link(url):
    assert safe_href(url) is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J红色", "\\u001b[2J红色"),
        ("C1\u009b31m", "C1\\u009b31m"),
        ("DEL\x7f", "DEL\\u007f"),
        ("报告\u202efdp.exe", "报告\\u202efdp.exe"),
        ("\u2066隔离\u2069", "\\u2066隔离\\u2069"),
        ("覆盖\rxx", "覆盖\\u000dxx"),
        ("bell\x07", "bell\\u0007"),
    ],
)
def test_control_and_bidi_characters_are_shown_escaped(text, shown):
    assert terminal_text(text) == shown


def test_text_a_terminal_shows_as_it_is_stays():
    text = "中铝股份，“公告”：第一段\n第二段\t制表\r\n（全角）…"
    assert terminal_text(text) == text


def test_an_escaped_json_line_means_the_same_values():
    record = {"title": "报告\u202efdp.exe \u009b \x7f \x1b[31m"}
    line = terminal_text(json.dumps(record, ensure_ascii=False))
    assert "\u202e" not in line and "\u009b" not in line and "\x7f" not in line
    assert json.loads(line) == record


def test_bytes_for_a_terminal_keep_everything_but_the_controls():
    page = "<title>中铝\u202e</title>\x1b[2J\r\n\t€".encode()
    shown = terminal_bytes(page)
    assert (
        shown == b"<title>\xe4\xb8\xad\xe9\x93\x9d\\xe2\\x80\\xae</title>\\x1b[2J\r\n\t\xe2\x82\xac"
    )
    gb = "中国铝业".encode("gb18030")
    assert terminal_bytes(gb) == gb


def test_the_terminal_writer_escapes_what_passes_through():
    out = io.StringIO()
    TerminalWriter(out).write("a\x1bb\n")
    assert out.getvalue() == "a\\u001bb\n"
