"""Challenge pages: an anti-bot or JavaScript check, a captcha or a login wall answered where
content was asked for. One detector, used by `crawl` (such a page is archived as a capture,
never stored as an article) and by `probe` (which flags it).

Sites of Chinese state-owned groups often sit behind a WAF that answers a first visit with
HTTP 412 or 202 and a body that is only a script (it sets a cookie and reloads the page), or
with a slider captcha; an intranet page may answer with a login form. None of these is the
page: archiving one as an article, or as an article's removal, would be quietly wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

# A GET with no If-Match / If-Unmodified-Since cannot fail a precondition: a 412 to one is
# an anti-bot answer (the crawler's conditional GETs get 304, never 412).
PRECONDITION_FAILED = 412
# Statuses whose body is looked at even when it is large; 200 pages only when a marker or
# a tiny script-bearing body makes it worth parsing.
SUSPECT_STATUSES = frozenset({202, 401, 403, 405, 407, 412, 429, 503})
LOGIN_STATUSES = frozenset({401, 407})
SMALL_PAGE = 4096
"""A 200 answer shorter than this with a script in it is parsed: a JavaScript check."""
SCAN_BYTES = 64 * 1024
"""Markers are searched in the first bytes only: a challenge page is small."""
SCRIPT_ONLY_TEXT = 50
"""Visible characters (whitespace aside) below which a page with scripts shows nothing."""
WALL_TEXT = 1000
"""Visible characters below which a captcha or login form is the page, not a part of it."""
PARAGRAPH_TEXT = 200
"""Paragraph characters at or above which a page is content whatever else it holds."""
CONTENT_PARAGRAPHS = 8
"""A 200 answer with this many <p> tags is taken for content without searching it for
markers: the search costs as much as a fifth of reading an article."""

_CAPTCHA_WORDS = (
    "验证码",
    "滑动验证",
    "安全验证",
    "人机验证",
    "拖动滑块",
    "请完成验证",
    "向右滑动",
)
_CHECK_WORDS = ("请开启JavaScript", "请启用JavaScript", "正在验证", "浏览器安全检查")
_LOGIN_WORDS = ("请登录", "用户登录", "账号登录", "登录后")
_ASCII_MARKERS = (
    "captcha",
    "geetest",
    "turnstile",
    "cf-chl",
    "challenge-platform",
    "nc_1_wrapper",
    "checking your browser",
    "please enable javascript",
    "please enable cookies",
    "__jsl_clearance",
    "acw_sc__v2",
    "wzwschallenge",
    "$_ts",
    "_waf_",
    "yunsuo_session",
)
# Searched as plain substrings of the lower-cased bytes: one alternation regex over them
# cost a millisecond a page, as much as reading the article. Legacy pages are GBK/GB18030:
# the Chinese words are searched in both encodings.
_MARKERS = tuple(
    {word.lower().encode("ascii") for word in _ASCII_MARKERS}
    | {
        # bytes.lower() also folds the ASCII-range trail bytes of GBK: fold the words alike.
        word.encode(codec).lower()
        for word in _CAPTCHA_WORDS + _CHECK_WORDS + _LOGIN_WORDS
        for codec in ("utf-8", "gb18030")
    }
)
_CAPTCHA = re.compile(
    r"captcha|geetest|recaptcha|hcaptcha|turnstile|cf-chl|challenge-platform|nc_1_wrapper|"
    + "|".join(_CAPTCHA_WORDS),
    re.IGNORECASE,
)
_JS_CHECK = re.compile(
    r"checking your browser|please enable (?:javascript|cookies)|__jsl_clearance|acw_sc__v2|"
    r"wzwschallenge|\$_ts\s*=|_waf_|yunsuo_session|" + "|".join(_CHECK_WORDS),
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")
_HTMLISH = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<", re.DOTALL)
_INVISIBLE = ("script", "style", "noscript", "template", "head")


@dataclass(frozen=True)
class Challenge:
    """Why a response is a challenge page and not the content asked for."""

    kind: str
    """`script` (a JavaScript or anti-bot check), `captcha` or `login`."""
    reason: str
    """One line, e.g. "HTTP 412 with a script-only body (an anti-bot check)"."""


def detect_challenge(status: int, content_type: str | None, body: bytes) -> Challenge | None:
    """The challenge a response is, or None when it may be content (or a plain error)."""
    head = bytes(body[:SCAN_BYTES]).lower()
    htmlish = bool(_HTMLISH.match(head)) or "html" in (content_type or "").lower()
    if status == PRECONDITION_FAILED:
        what = _describe(content_type, body) if htmlish else ""
        return Challenge("script", _reason(status, what))
    if status in LOGIN_STATUSES:
        return Challenge("login", f"HTTP {status}: the page asks for a login")
    if not htmlish or not body.strip():
        return None
    if status not in SUSPECT_STATUSES:
        small_script = len(body) < SMALL_PAGE and b"<script" in head
        if not small_script and (
            head.count(b"<p") >= CONTENT_PARAGRAPHS
            or not any(marker in head for marker in _MARKERS)
        ):
            return None
    page = _Page.parse(content_type, body)
    if page is None:
        return None
    if page.paragraph_chars >= PARAGRAPH_TEXT:
        return None  # an article that mentions a captcha, or has a login box beside it
    if page.password and page.visible_chars < WALL_TEXT:
        return Challenge("login", _reason(status, "a login form instead of the page"))
    if page.visible_chars < WALL_TEXT and _CAPTCHA.search(page.markup):
        return Challenge("captcha", _reason(status, "a captcha instead of the page"))
    if page.scripts and page.visible_chars < SCRIPT_ONLY_TEXT:
        return Challenge("script", _reason(status, "a script-only body (a JavaScript check)"))
    if page.visible_chars < WALL_TEXT and _JS_CHECK.search(page.markup):
        return Challenge("script", _reason(status, "a browser check instead of the page"))
    if status == 202 and page.visible_chars < SCRIPT_ONLY_TEXT:
        return Challenge("script", _reason(status, "an empty page (an anti-bot check)"))
    return None


def _reason(status: int, what: str) -> str:
    if status == PRECONDITION_FAILED and not what:
        return "HTTP 412 to a plain GET (an anti-bot check)"
    return f"HTTP {status} with {what}" if what else f"HTTP {status}"


def _describe(content_type: str | None, body: bytes) -> str:
    page = _Page.parse(content_type, body)
    if page is None or not page.scripts:
        return ""
    return "a script-only body (an anti-bot check)" if page.visible_chars < SCRIPT_ONLY_TEXT else ""


@dataclass(frozen=True)
class _Page:
    markup: str
    """The decoded page, for the marker patterns."""
    visible_chars: int
    paragraph_chars: int
    scripts: int
    password: bool

    @classmethod
    def parse(cls, content_type: str | None, body: bytes) -> _Page | None:
        try:
            _codec, text = html_to_unicode(content_type, bytes(body))
            root = lxml_html.document_fromstring(text.encode("utf-8"), parser=_PARSER)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError, LookupError):
            return None
        scripts = sum(1 for _ in root.iter("script"))
        password = bool(root.xpath("//input[translate(@type, 'PASWORD', 'pasword')='password']"))
        for node in list(root.iter(*_INVISIBLE)):
            if node.getparent() is not None:
                node.drop_tree()
        visible = _WS.sub("", root.text_content())
        paragraphs = sum(len(_WS.sub("", p.text_content())) for p in root.iter("p"))
        return cls(text, len(visible), paragraphs, scripts, password)


# huge_tree: a text node over 10 MB must not end the page early (a truncated page reads as
# one with no text: a challenge).
_PARSER = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=True)
