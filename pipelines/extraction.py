"""Article extraction: page bytes in; title, 来源/时间/作者, body, attachments, images out."""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from cssselect import HTMLTranslator
from cssselect.parser import SelectorError
from lxml import etree
from lxml import html as lxml_html

from chalco_crawler.items import ArticlePageItem, ExtractedLink, Extraction
from chalco_crawler.profile import ExtractionRules, load_profile
from pipelines.charset import decode_page

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


META_NAMES = ("ArticleTitle", "PubDate", "ContentSource", "Keywords", "Description")
_META_BY_LOWER = {name.lower(): name for name in META_NAMES}

# Names of the site group and of Chalco that templates show in a logo <h1> or a <title> suffix.
SITE_NAMES = frozenset(
    {
        "中铝网站群",
        "中国铝业",
        "中国铝业股份有限公司",
        "中国铝业集团有限公司",
        "中铝集团",
        "中铝股份",
    }
)

BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li "
    "main menu nav ol p pre section summary table tbody td tfoot th thead title tr ul".split()
)
# Elements whose text a reader never sees as article text.
SKIP_TAGS = frozenset(
    (
        "script style noscript template iframe object embed svg select option textarea button head"
    ).split()
)
# Class/id fragments of page furniture, used where no profile selector decides (fallback body).
_FURNITURE_XPATH = etree.XPath(
    "//*[@class or @id]["
    + " or ".join(
        f"contains(translate(concat(@class, ' ', @id), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
        f"'abcdefghijklmnopqrstuvwxyz'), '{word}')"
        for word in (
            "foot",
            "nav",
            "menu",
            "header",
            "copyright",
            "crumb",
            "share",
            "logo",
            "related",
            "position",
            "location",
        )
    )
    + "]"
)

# CSS Text 3: a segment break between two East Asian wide characters is removed, not made a
# space, so a line wrapped in the HTML source does not put a space inside a Chinese sentence.
# Curly quotes, dashes and … are ambiguous-width but full-width in Chinese text, so they count.
_WIDE = (
    "\u00b7\u2014-\u201f\u2026\u2e80-\u2fff\u3001-\u303f\u3040-\u33ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6\U00020000-\U0003fffd"
)
# Possessive: a long whitespace run that does not end in a wide character fails in linear time.
_WIDE_BREAK = re.compile(f"(?<=[{_WIDE}])[ \\t\\r]*+\\n[ \\t\\r\\n]*+(?=[{_WIDE}])")
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
_WS = re.compile(r"\s+")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\ufeff]")
# C0 controls other than tab/newline/CR: never text, and lxml refuses them in attribute values.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BREAK = "\x00"  # paragraph break marker; NUL cannot survive in the decoded text (removed above)

_ELLIPSIS = re.compile(r"(?:…+|\.{3,}|．{3,}|。{3,})$")
_TITLE_SEPARATORS = re.compile(r"(\s*(?:_|\||｜|－|—+|\s-\s|-)\s*)")
_DATETIME = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}\s*秒?)?)?"
)
# Other fields that share the info line; a value ends where one of them starts.
_INFO_STOP = re.compile(
    r"(?:点击数|点击量|点击|浏览次数|浏览量|浏览|阅读次数|阅读量|阅读|访问量|访问次数|字号|字体|分享到|"
    r"责任编辑|编辑|审核|摄影|通讯员|供稿|发布人)\s*[：:]|【|〖"
)
_VALUE_STRIP = " \t\r\n\u3000\xa0|丨｜/／]】）)"
# Lines that are print/close/share controls, not text: 【打印本页】【关闭窗口】 and friends.
_CONTROL_GROUP = (
    r"[【\[]\s*[^】\]]{0,12}?(?:打印|关闭|返回|收藏|分享|字体|字号|顶部|推荐)"
    r"[^】\]]{0,12}[】\]]"
)
_CONTROL_LINE = re.compile(
    rf"^(?:{_CONTROL_GROUP}\s*)+$|^分享到[：:]?.{{0,40}}$"
    r"|^(?:当前位置|您的位置|您现在的位置)[：:]"
)
_MAX_INFO_CHARS = 300
# Fields split over blocks sit side by side; looking further only costs time on odd pages.
_MAX_INFO_NEIGHBOURS = 6
_MAX_CAPTION_CHARS = 120
# A selector that is one tag, class or id; and the white space XPath's normalize-space() and
# so cssselect's class matching split on.
_SIMPLE_SELECTOR = re.compile(r"([.#]?)(-?[A-Za-z_][A-Za-z0-9_-]*)")
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_WITH_CLASS_OR_ID = etree.XPath("descendant-or-self::*[@class or @id]")


@lru_cache(maxsize=1)
def _default_rules() -> ExtractionRules:
    return load_profile().extraction


@lru_cache(maxsize=256)
def _css(selector: str) -> etree.XPath | None:
    """Compile a profile selector once; a bad selector is skipped rather than failing pages."""
    try:
        return etree.XPath(HTMLTranslator().css_to_xpath(selector))
    except (SelectorError, etree.XPathError, ValueError):
        return None


@dataclass(frozen=True)
class _LabelRules:
    """Regular expressions built from a profile's labels."""

    kinds: dict[str, str]
    anywhere: re.Pattern[str]
    at_start: re.Pattern[str]
    attachment_start: re.Pattern[str]
    text_xpath: etree.XPath
    attachment_xpath: etree.XPath
    extensions: tuple[str, ...]


@lru_cache(maxsize=16)
def _label_rules(rules: ExtractionRules) -> _LabelRules:
    kinds: dict[str, str] = {}
    for kind, labels in (
        ("source", rules.source_labels),
        ("time", rules.time_labels),
        ("author", rules.author_labels),
    ):
        for label in labels:
            kinds.setdefault(label, kind)
    # Longest first, so 发布时间 wins over 时间 at the same position.
    # "(?!)" never matches: a profile without labels turns the text rules off.
    alternation = "|".join(re.escape(label) for label in sorted(kinds, key=len, reverse=True))
    alternation = alternation or "(?!)"
    attachment = "|".join(re.escape(label) for label in rules.attachment_labels) or "(?!)"

    def contains(labels: Iterable[str]) -> str:
        return " or ".join(f"contains(., '{label}')" for label in labels if "'" not in label)

    return _LabelRules(
        kinds=kinds,
        anywhere=re.compile(f"({alternation})\\s*[：:]"),
        # Text rules only trust a label that opens a line (optionally 信息来源, 发布时间 …), so
        # "会议时间：" inside an announcement's body is not taken for the page's time.
        at_start=re.compile(
            f"^[\\s【\\[（(]*(?:信息|文章|稿件|新闻|发布|更新|内容)?({alternation})\\s*[：:]"
        ),
        attachment_start=re.compile(
            f"^[\\s【\\[]*(?:相关|文章|下载)?(?:{attachment})\\s*\\d*\\s*[：:]"
        ),
        text_xpath=etree.XPath(f"//body//text()[{contains(kinds) or 'false()'}]"),
        attachment_xpath=etree.XPath(
            f"//body//text()[{contains(rules.attachment_labels) or 'false()'}]"
        ),
        extensions=tuple("." + ext.lower().lstrip(".") for ext in rules.document_extensions),
    )


def clean_line(text: str) -> str:
    """One line of text as a reader sees it: breaks inside Chinese dropped, whitespace collapsed."""
    text = _ZERO_WIDTH.sub("", text)
    if "\n" in text:
        text = _WIDE_BREAK.sub("", text)
    return _WS.sub(" ", text).strip()


def _join_inline(pieces: Iterable[str]) -> str:
    """Join lines into one without inserting a space between two Chinese characters."""
    result = ""
    for piece in pieces:
        if not piece:
            continue
        if result and not (_WIDE_CHAR.match(result[-1]) and _WIDE_CHAR.match(piece[0])):
            result += " "
        result += piece
    return result


def text_lines(
    element: etree._Element, skip: frozenset[etree._Element] | set[etree._Element] = frozenset()
) -> list[str]:
    """The element's text as a browser lays it out: one string per block, inline text joined."""
    parts: list[str] = []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = node.tag
        if not isinstance(tag, str):
            if event == "end" and node is not element and node.tail:
                parts.append(node.tail)
            continue
        tag = tag.lower()
        if event == "start":
            if node is not element and (tag in SKIP_TAGS or node in skip):
                walker.skip_subtree()
                continue
            if tag in BLOCK_TAGS or tag == "br":
                parts.append(_BREAK)
            if node.text:
                parts.append(node.text)
        else:
            if tag in BLOCK_TAGS:
                parts.append(_BREAK)
            if node is not element and node.tail:
                parts.append(node.tail)
    lines = (clean_line(line) for line in "".join(parts).split(_BREAK))
    return [line for line in lines if line]


def _inline_text(element: etree._Element) -> str:
    return _join_inline(text_lines(element))


def _decode(body: bytes, content_type: str | None) -> tuple[str, str, list[str]]:
    """Decode like a browser, but check a declared charset against the bytes (charset.py)."""
    encoding, text, problems = decode_page(body, content_type)
    return encoding, _CONTROLS.sub("", text), problems


_PARSER = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)


def _parse(text: str) -> etree._Element | None:
    try:
        # Bytes with an explicit encoding: lxml refuses str input that declares its own encoding.
        return etree.fromstring(text.encode("utf-8", "replace"), _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _safe_join(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip().replace("\n", "").replace("\r", "").replace("\t", "")
    if not href or href.startswith("#"):
        return None
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme in ("javascript", "mailto", "tel", "data", "about", "vbscript"):
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _ancestors_or_self(element: etree._Element) -> Iterator[etree._Element]:
    yield element
    yield from element.iterancestors()


def _inside(element: etree._Element, roots: set[etree._Element]) -> bool:
    return bool(roots) and any(node in roots for node in _ancestors_or_self(element))


def _contains(outer: etree._Element, inner: etree._Element) -> bool:
    return any(node is outer for node in _ancestors_or_self(inner))


def _block_of(element: etree._Element) -> etree._Element:
    for node in _ancestors_or_self(element):
        if isinstance(node.tag, str) and node.tag.lower() in BLOCK_TAGS:
            return node
    return element


def _owner(text: etree._ElementUnicodeResult) -> etree._Element | None:
    """The element a text node is displayed in (the parent of an element whose tail it is)."""
    parent = text.getparent()
    if parent is None:
        return None
    if text.is_tail:
        return parent.getparent()
    return parent


def _strip_title_suffix(text: str) -> str | None:
    """`文章标题_中国铝业股份有限公司` → `文章标题`; None when only site names remain."""
    pieces = _TITLE_SEPARATORS.split(clean_line(text))
    parts, separators = pieces[0::2], pieces[1::2]
    while len(parts) > 1 and _is_site_name(parts[-1]):
        parts.pop()
        separators.pop()
    while len(parts) > 1 and _is_site_name(parts[0]):
        parts.pop(0)
        separators.pop(0)
    if not parts[0] or (len(parts) == 1 and _is_site_name(parts[0])):
        return None
    # Rejoin with the separators the title had, so "2025-2026年…" or "——" survive intact.
    return (
        parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:], strict=True))
    ).strip()


def _is_site_name(text: str) -> bool:
    text = text.strip()
    return (
        text in SITE_NAMES
        or "网站群" in text
        or text.lower() in ("chalco", "chinalco")
        or (text.endswith(("有限公司", "官网", "网站")) and len(text) <= 16)
    )


def _is_logo(element: etree._Element) -> bool:
    for node in _ancestors_or_self(element):
        marks = f"{node.get('class', '')} {node.get('id', '')}".lower()
        if "logo" in marks or node.tag in ("nav", "footer"):
            return True
    return False


class _Page:
    """One parsed page and the pieces found in it so far."""

    def __init__(self, root: etree._Element, url: str, rules: ExtractionRules) -> None:
        self.root = root
        self.url = url
        self.rules = rules
        self.labels = _label_rules(rules)
        self.base = self._base_url()
        self._index: dict[str, list[etree._Element]] | None = None
        self.boilerplate: set[etree._Element] = set()
        for selector in rules.boilerplate:
            self.boilerplate.update(
                node for node in self.select(selector) if node is not root and node.tag != "body"
            )
        self.skip: set[etree._Element] = set(self.boilerplate)

    def _base_url(self) -> str:
        for href in self.root.xpath("//base/@href"):
            joined = _safe_join(self.url, str(href))
            if joined:
                return joined
        return self.url

    def _indexed(self) -> dict[str, list[etree._Element]]:
        """Every element with a class or an id under its `.class` and `#id`, in document
        order."""
        if self._index is None:
            index: dict[str, list[etree._Element]] = {}
            for node in _WITH_CLASS_OR_ID(self.root):
                classes = node.get("class")
                if classes:
                    for name in set(_XML_SPACE.split(classes)):
                        if name:
                            index.setdefault("." + name, []).append(node)
                element_id = node.get("id")
                if element_id is not None:
                    index.setdefault("#" + element_id, []).append(node)
            self._index = index
        return self._index

    def select(self, selector: str) -> list[etree._Element]:
        """The elements a profile's CSS selector matches, in document order. A lone tag,
        class or id (most profile selectors) is looked up in one index of the page instead
        of a walk of the whole tree per selector, with cssselect's meaning: tags in any
        case, classes and ids as written."""
        simple = _SIMPLE_SELECTOR.fullmatch(selector)
        if simple is not None:
            kind, name = simple.groups()
            if not kind:
                return list(self.root.iter(name.lower()))
            return list(self._indexed().get(kind + name, ()))
        xpath = _css(selector)
        if xpath is None:
            return []
        try:
            found = xpath(self.root)
        except etree.XPathError:
            return []
        return [node for node in found if isinstance(node, etree._Element)]

    def meta(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for node in self.root.iter("meta"):
            name = _META_BY_LOWER.get((node.get("name") or "").strip().lower())
            content = clean_line(node.get("content") or "")
            if name and content and name not in values:
                values[name] = content
        return values


def _title(page: _Page, meta: dict[str, str]) -> tuple[str | None, etree._Element | None, str]:
    """The title, the element it came from (to keep it out of the body) and the rule used."""
    page_title = None
    for node in page.root.iter("title"):
        page_title = _strip_title_suffix(_inline_text(node))
        break
    for selector in page.rules.title:
        for node in page.select(selector):
            if node.tag == "meta":
                text = clean_line(node.get("content") or "")
            elif _is_logo(node):
                continue
            else:
                text = _inline_text(node)
            if not text or _is_site_name(text) or len(text) > 300:
                continue
            if _ELLIPSIS.search(text):
                text = _full_title(text, node, meta, page_title)
            return text, (None if node.tag == "meta" else node), f"selectors:{selector}"
    if meta.get("ArticleTitle") and not _is_site_name(meta["ArticleTitle"]):
        return meta["ArticleTitle"], None, "meta:ArticleTitle"
    if page_title:
        return page_title, None, "title-tag"
    return None, None, ""


def _full_title(
    visible: str, node: etree._Element, meta: dict[str, str], page_title: str | None
) -> str:
    """A title cut short with … : the full text from a title= attribute, the meta or <title>."""
    prefix = _ELLIPSIS.sub("", visible).rstrip()
    candidates = [clean_line(n.get("title") or "") for n in _ancestors_or_self(node)]
    candidates += [clean_line(n.get("title") or "") for n in node.iterdescendants()]
    candidates += [meta.get("ArticleTitle") or "", page_title or ""]
    for candidate in candidates:
        if len(candidate) > len(prefix) and candidate.startswith(prefix):
            return candidate
    return visible


_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6 strong b".split())


def _title_before(
    page: _Page, info_node: etree._Element, page_title: str | None
) -> tuple[etree._Element, str] | None:
    """The text just above the info line, if the <title> confirms it or it looks like a heading."""
    node: etree._Element | None = info_node
    for _ in range(3):
        if node is None:
            break
        previous = node.getprevious()
        while previous is not None:
            if (
                isinstance(previous.tag, str)
                and previous.tag not in SKIP_TAGS
                and previous not in page.boilerplate
            ):
                text = _inline_text(previous)
                if text:
                    if len(text) > 200 or _is_site_name(text):
                        return None
                    if page_title is not None:
                        confirmed = page_title.startswith(text) or text.startswith(page_title)
                    else:
                        marks = f"{previous.get('class', '')} {previous.get('id', '')}".lower()
                        confirmed = previous.tag in _HEADING_TAGS or any(
                            word in marks for word in ("title", "tit", "bt")
                        )
                    return (previous, text) if confirmed else None
            previous = previous.getprevious()
        node = node.getparent()
    return None


@dataclass
class _Info:
    line: str | None = None
    source: str | None = None
    time: str | None = None
    author: str | None = None
    elements: list[etree._Element] = field(default_factory=list)
    rule: str = ""
    stage: str = "labels"
    """The rule being applied: "selector:<css>" or "labels"; recorded in `origins`."""
    origins: dict[str, str] = field(default_factory=dict)
    """Per field (source, published, author), the rule and label that gave it."""

    def missing(self) -> bool:
        return self.source is None or self.time is None or self.author is None


def _parse_info_line(line: str, labels: _LabelRules, info: _Info) -> bool:
    """Fill the fields found in one line; True when any label was found."""
    matches = list(labels.anywhere.finditer(line))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(line)
        value = line[match.end() : end]
        kind = labels.kinds[match.group(1)]
        if kind == "time":
            if info.time is None:
                found = _DATETIME.search(value)
                value = found.group(0) if found else _cut_value(value)
                info.time = clean_line(value)
                _note_origin(info, "published", match.group(1))
        elif kind == "source" and info.source is None:
            info.source = _cut_value(value)
            _note_origin(info, "source", match.group(1))
        elif kind == "author" and info.author is None:
            info.author = _cut_value(value)
            _note_origin(info, "author", match.group(1))
    return bool(matches)


def _note_origin(info: _Info, name: str, label: str) -> None:
    if info.stage == "labels":
        info.origins[name] = f"labels:{label}"
    else:
        info.origins[name] = f"{info.stage} label:{label}"


def _cut_value(value: str) -> str:
    stop = _INFO_STOP.search(value)
    if stop:
        value = value[: stop.start()]
    return clean_line(value).strip(_VALUE_STRIP)


def _info(
    page: _Page, title_node: etree._Element | None, body_node: etree._Element | None
) -> _Info:
    info = _Info()
    for selector in page.rules.info:
        for node in page.select(selector):
            if _inside(node, page.boilerplate) or (title_node is not None and node is title_node):
                continue
            line = " ".join(text_lines(node))
            if not line or len(line) > _MAX_INFO_CHARS:
                continue
            info.stage = f"selector:{selector}"
            if _parse_info_line(line, page.labels, info) or _DATETIME.search(line):
                info.line, info.rule = line, f"selectors:{selector}"
                info.elements.append(node)
                break
        if info.line is not None:
            break
    if info.line is not None and info.time is None:
        found = _DATETIME.search(info.line)
        if found:
            info.time = clean_line(found.group(0))
            info.origins["published"] = f"{info.stage} date"
    info.stage = "labels"
    if info.line is None or info.missing():
        _info_from_labels(page, info, body_node)
    return info


def _info_from_labels(page: _Page, info: _Info, body_node: etree._Element | None) -> None:
    """Text rules: a block whose line opens with 来源/时间/作者, and its neighbours."""
    # Next to an info element a selector found, only its neighbours may add missing fields.
    preset = bool(info.elements)
    first_block: etree._Element | None = info.elements[0] if preset else None
    known = set(info.elements)
    body_head: list[str] | None = None
    seen: set[etree._Element] = set()
    lines: list[str] = []
    neighbours_left = _MAX_INFO_NEIGHBOURS
    for text in page.labels.text_xpath(page.root):
        owner = _owner(text)
        if owner is None or _inside(owner, page.boilerplate) or owner.tag in SKIP_TAGS:
            continue
        block = _block_of(owner)
        if block in seen or _inside(block, known) or any(_contains(block, k) for k in known):
            continue
        seen.add(block)
        if first_block is not None:
            if not _near(first_block, block):
                if preset:
                    continue
                break
            neighbours_left -= 1
            if neighbours_left < 0:
                break
        inside_body = body_node is not None and _contains(body_node, block)
        if inside_body and preset:
            continue
        if inside_body and body_head is None and body_node is not None:
            # A byline inside the body container opens it; "（作者：…）" at the end is body text.
            body_lines = text_lines(body_node, page.boilerplate)
            body_head = body_lines[:2] if len(body_lines) > 2 else body_lines[:1]
        for line in text_lines(block):
            if inside_body and line not in (body_head or ()):
                continue
            if len(line) <= _MAX_INFO_CHARS and page.labels.at_start.match(line):
                before = (info.source, info.time, info.author)
                _parse_info_line(line, page.labels, info)
                if (info.source, info.time, info.author) == before:
                    continue
                lines.append(line)
                if block not in info.elements:
                    info.elements.append(block)
                if first_block is None:
                    first_block = block
        if first_block is not None and not info.missing():
            break
    if lines:
        info.line = " ".join(([info.line] if info.line else []) + lines)
        info.rule = f"{info.rule}+labels" if info.rule else "labels"


def _near(first: etree._Element, other: etree._Element) -> bool:
    """Fields split over adjacent blocks share a parent or grandparent."""
    parents = [first.getparent()]
    if parents[0] is not None:
        parents.append(parents[0].getparent())
    return any(p is not None and _contains(p, other) for p in parents)


def _body(page: _Page) -> tuple[etree._Element | None, str]:
    empty: etree._Element | None = None
    for selector in page.rules.body:
        best: etree._Element | None = None
        best_size = -1
        for node in page.select(selector):
            if _inside(node, page.boilerplate):
                continue
            size = len(node.text_content().strip())
            if size == 0 and not any(True for _ in node.iter("img")):
                empty = empty if empty is not None else node
                continue
            if size > best_size:
                best, best_size = node, size
        if best is not None:
            return best, f"selectors:{selector}"
    fallback = _densest(page)
    if fallback is not None:
        return fallback, "density"
    return empty, "selectors:empty" if empty is not None else ""


def _densest(page: _Page) -> etree._Element | None:
    """Fallback for unknown templates: the element holding the most paragraph text."""
    furniture = set(_FURNITURE_XPATH(page.root)) | page.boilerplate
    scores: dict[etree._Element, int] = {}
    for node in page.root.iter("p", "br"):
        parent = node.getparent()
        if parent is None:
            continue
        if node.tag == "p":
            size = len(clean_line(node.text_content()))
        else:
            size = len(clean_line(node.tail or ""))
        if size:
            scores[parent] = scores.get(parent, 0) + size
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    for node, size in ranked:
        if size < 20:
            break
        if not _inside(node, furniture) and node.tag not in ("html", "head"):
            # Class names are only a hint: furniture inside the chosen text stays text.
            page.skip.update(f for f in furniture if not _contains(node, f))
            return node
    return None


def _attachment_blocks(
    page: _Page, body: etree._Element | None
) -> tuple[list[etree._Element], list[etree._Element], str]:
    """Elements whose links are all attachments, and single anchors found after a bare label."""
    blocks: list[etree._Element] = []
    anchors: list[etree._Element] = []
    rule = ""
    for selector in page.rules.attachments:
        for node in page.select(selector):
            if not _inside(node, page.boilerplate) and not (
                body is not None and _contains(node, body)
            ):
                blocks.append(node)
        if blocks:
            return blocks, anchors, f"selectors:{selector}"
    for text in page.labels.attachment_xpath(page.root):
        if not page.labels.attachment_start.match(text):
            continue
        owner = _owner(text)
        if owner is None or _inside(owner, page.boilerplate):
            continue
        block = _block_of(owner)
        if block.tag in ("body", "html") or (body is not None and _contains(block, body)):
            # The label sits loose in the body: take document links after it, keep the block.
            after = False
            anchor_of_text = text.getparent()
            for node in block.iter():
                if node is anchor_of_text:
                    after = True
                if after and node.tag == "a" and _is_document(page, node):
                    anchors.append(node)
            rule = "labels"
            continue
        blocks.append(block)
        rule = "labels"
        # 附件： on its own line, each file a link-only block after it.
        for sibling in block.itersiblings():
            links = list(sibling.iter("a"))
            if not links or _inline_text(sibling) != _join_inline(_inline_text(a) for a in links):
                break
            blocks.append(sibling)
    return blocks, anchors, rule


def _is_document(page: _Page, anchor: etree._Element) -> bool:
    url = _safe_join(page.base, anchor.get("href"))
    if url is None:
        return False
    path = urlsplit(url).path.lower()
    if path.endswith(page.labels.extensions):
        return True
    return _inline_text(anchor).lower().endswith(page.labels.extensions)


def _link(page: _Page, anchor: etree._Element) -> ExtractedLink | None:
    url = _safe_join(page.base, anchor.get("href"))
    if url is None:
        return None
    name = _inline_text(anchor) or clean_line(anchor.get("title") or "") or None
    return ExtractedLink(url=url, name=name)


def _dedupe(links: Iterable[ExtractedLink]) -> list[ExtractedLink]:
    by_url: dict[str, ExtractedLink] = {}
    for link in links:
        known = by_url.get(link.url)
        if known is None:
            by_url[link.url] = link
        elif known.name is None and link.name:
            by_url[link.url] = link
    return list(by_url.values())


def _attachments(
    page: _Page,
    body: etree._Element | None,
    blocks: list[etree._Element],
    loose: list[etree._Element],
) -> list[ExtractedLink]:
    # Sets of anchors, each made by one pass over a subtree: walking every anchor's
    # ancestors instead was a fifth of an article's extraction.
    wanted = set(loose)
    for block in blocks:
        wanted.update(block.iter("a"))
    if body is not None:
        skipped = {anchor for root in page.skip for anchor in root.iter("a")}
        wanted.update(
            anchor
            for anchor in body.iter("a")
            if anchor not in skipped and _is_document(page, anchor)
        )
    links = (_link(page, anchor) for anchor in page.root.iter("a") if anchor in wanted)
    return _dedupe(link for link in links if link is not None)


def _is_centred(element: etree._Element) -> bool:
    for node in [element, *element.iterchildren()]:
        if not isinstance(node.tag, str):
            continue
        if node.tag == "center" or (node.get("align") or "").lower() == "center":
            return True
        style = (node.get("style") or "").lower().replace(" ", "")
        if "text-align:center" in style:
            return True
        marks = (node.get("class") or "").lower().split()
        if any("center" in mark or mark in ("tc", "txt-c", "text-c") for mark in marks):
            return True
    return any(node.tag == "center" for node in element.iterancestors())


def _caption(image: etree._Element, body: etree._Element) -> str | None:
    """A caption is a short centred paragraph directly under the image, or text beside it."""
    inline_top, block = image, body
    for node in image.iterancestors():
        if node is body:
            break
        if node.tag == "figure":
            for caption in node.iter("figcaption"):
                text = _inline_text(caption)
                if text:
                    return text
        if node.tag in BLOCK_TAGS:
            block = node
            break
        inline_top = node
    if block is not body:
        text = _inline_text(block)
        if text and len(text) <= _MAX_CAPTION_CHARS and sum(1 for _ in block.iter("img")) == 1:
            return text
    # The image alone in its paragraph, or loose among the paragraphs: look at what follows.
    candidates = [inline_top.getnext()]
    if block is not body:
        candidates.append(block.getnext())
    for following in candidates:
        while following is not None and (
            not isinstance(following.tag, str) or following.tag == "br"
        ):
            following = following.getnext()
        if following is None or following.tag == "img" or any(True for _ in following.iter("img")):
            continue
        text = _inline_text(following)
        if text and len(text) <= _MAX_CAPTION_CHARS and _is_centred(following):
            return text
    return None


def _images(page: _Page, body: etree._Element) -> list[ExtractedLink]:
    links: list[ExtractedLink] = []
    for image in body.iter("img"):
        if _inside(image, page.skip):
            continue
        src = image.get("src") or image.get("data-src") or image.get("data-original")
        url = _safe_join(page.base, src)
        if url is None:
            continue
        name = _caption(image, body) or clean_line(image.get("alt") or "") or None
        links.append(ExtractedLink(url=url, name=name))
    return _dedupe(links)


def _drop_boilerplate_lines(lines: list[str], labels: _LabelRules) -> list[str]:
    kept = [line for line in lines if not _CONTROL_LINE.match(line)]
    # A trailing 附件 line (printed even with no attachment) and the file names after it.
    for index in range(len(kept) - 1, max(-1, len(kept) - 21), -1):
        if labels.attachment_start.match(kept[index]):
            if all(len(line) <= _MAX_CAPTION_CHARS for line in kept[index:]):
                kept = kept[:index]
            break
    return kept


_HTML_DROP = ("script", "style", "noscript", "template")


def _body_html(page: _Page, body: etree._Element) -> str | None:
    fragment = copy.deepcopy(body)
    fragment.tail = None
    for node in list(fragment.iter(*_HTML_DROP)):
        if node is not fragment:
            node.drop_tree()  # keeps the tail, which is text outside the removed element
    fragment.make_links_absolute(page.base, resolve_base_href=False, handle_failures="ignore")
    return etree.tostring(fragment, encoding="unicode", method="html").strip() or None


def _empty(encoding: str, problems: list[str]) -> Extraction:
    return Extraction(
        title=None,
        source_raw=None,
        published_raw=None,
        author_raw=None,
        info_raw=None,
        meta={},
        body_text=None,
        body_html=None,
        encoding=encoding,
        template="none",
        problems=problems + ["title not found", "publication time not found", "body not found"],
    )


def extract_article(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    rules: ExtractionRules | None = None,
) -> Extraction:
    """Read an article page; never raises: what cannot be found is None, with the reason."""
    if rules is None:
        rules = _default_rules()
    if not isinstance(body, bytes | bytearray | memoryview):
        body = str(body).encode("utf-8", "replace")
    body = bytes(body)
    try:
        encoding, text, problems = _decode(body, content_type)
    except Exception as error:  # noqa: BLE001 - a page must never stop the pipeline
        return _empty("utf-8", [f"page could not be decoded: {error}"])
    if not text.strip():
        return _empty(encoding, problems + ["page is empty"])
    root = _parse(text)
    if root is None:
        return _empty(encoding, problems + ["page could not be parsed as HTML"])
    try:
        return _extract(root, url, rules, encoding, problems)
    except Exception as error:  # noqa: BLE001 - annotate, don't drop: keep the page, say why
        return _empty(encoding, problems + [f"extraction failed: {type(error).__name__}: {error}"])


def _extract(
    root: etree._Element, url: str, rules: ExtractionRules, encoding: str, problems: list[str]
) -> Extraction:
    page = _Page(root, url, rules)
    meta = page.meta()
    title, title_node, title_rule = _title(page, meta)
    body_node, body_rule = _body(page)
    info = _info(page, title_node, body_node)
    if title_rule in ("title-tag", "") and info.elements:
        # Unknown template: the heading right above the 来源/时间 line is the visible title.
        near = _title_before(page, info.elements[0], title)
        if near is not None:
            title_node, title = near
            title_rule = "labels"
    blocks, loose, attachment_rule = _attachment_blocks(page, body_node)

    if title_node is not None and (body_node is None or not _contains(title_node, body_node)):
        page.skip.add(title_node)
    for node in info.elements:
        if body_node is None or not _contains(node, body_node):
            page.skip.add(node)
    page.skip.update(blocks)

    body_text = body_html = None
    images: list[ExtractedLink] = []
    if body_node is not None:
        lines = _drop_boilerplate_lines(text_lines(body_node, page.skip), page.labels)
        body_text = "\n".join(lines) or None
        images = _images(page, body_node)
        if body_text is not None or images:
            body_html = _body_html(page, body_node)
    attachments = _attachments(page, body_node, blocks, loose)

    if title is None:
        problems.append("title not found")
    if not info.time:
        problems.append("publication time not found")
    if body_node is None:
        problems.append("body not found")
    elif body_text is None:
        problems.append("body is empty" if not images else "body has no text, only images")

    rules_used = [rule for rule in (title_rule, info.rule, body_rule, attachment_rule) if rule]
    provenance = dict(info.origins)
    found = {
        "title": (title is not None, "labels:heading" if title_rule == "labels" else title_rule),
        "body": (body_text is not None, body_rule),
        "attachments": (
            bool(attachments),
            {"": "body links", "labels": "labels:附件"}.get(attachment_rule, attachment_rule),
        ),
        "images": (bool(images), "body"),
    }
    provenance.update({name: _rule_name(rule) for name, (ok, rule) in found.items() if ok})
    return Extraction(
        title=title,
        source_raw=info.source,
        published_raw=info.time or None,
        author_raw=info.author,
        info_raw=info.line,
        meta=meta,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments,
        images=images,
        encoding=encoding,
        template=_describe_template(rules_used),
        problems=problems,
        provenance=provenance,
    )


def _rule_name(rule: str) -> str:
    """ "selectors:.content-title" → "selector:.content-title"; other rules as they are."""
    if rule.startswith("selectors:"):
        return "selector:" + rule.removeprefix("selectors:")
    return rule


def _describe_template(rules_used: list[str]) -> str:
    """E.g. "selectors:.content-title,.content-info,.content-con" or "selectors:h1+labels"."""
    selectors: list[str] = []
    others: list[str] = []
    for rule in rules_used:
        for part in rule.split("+"):
            if part.startswith("selectors:"):
                selectors.append(part.removeprefix("selectors:"))
            else:
                others.append(part)
    parts = (["selectors:" + ",".join(dict.fromkeys(selectors))] if selectors else []) + list(
        dict.fromkeys(others)
    )
    return "+".join(parts) or "none"


class ExtractionPipeline:
    """Pipeline stage 1: read every article page's fields. A page is never dropped: what
    cannot be found stays None and the reason goes into `problems`.

    Extraction is a pure function, so it can run in worker processes (`EXTRACTION_PROCESSES`;
    default 0, the crawler's own thread). On a machine with cores to spare, parsing then
    overlaps with fetching instead of stalling Scrapy's event loop.
    """

    def __init__(self, crawler: Crawler, processes: int):
        self.crawler = crawler
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        return cls(crawler, crawler.settings.getint("EXTRACTION_PROCESSES", 0))

    def open_spider(self) -> None:
        if self.processes > 0:
            # spawn, not fork: a forked copy of a running reactor is not safe.
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn")
            )

    def close_spider(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePageItem):
            return item
        if item.oversize is not None:  # a decompression bomb is not read: flagged, unread
            item.extraction = _empty("utf-8", [f"page not read: it {item.oversize}"])
            self.crawler.stats.inc_value("extraction/flagged")
            return item
        profile = self.crawler.spider.profile_for(item.site)  # type: ignore[union-attr]
        work = partial(
            extract_article,
            item.body,
            item.final_url,
            content_type=item.content_type,
            rules=profile.extraction,
        )
        if self._pool is None:
            item.extraction = work()
        else:
            item.extraction = await asyncio.wrap_future(self._pool.submit(work))
        if item.extraction.problems:
            self.crawler.stats.inc_value("extraction/flagged")
        return item
