"""The page model: bytes decoded (charset.py) and parsed, the profile's selectors and labels
compiled, and the parsed page with what the field readers have found in it so far."""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import urljoin

from cssselect import HTMLTranslator
from cssselect.parser import SelectorError
from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import read_bom

from chalco_crawler.profile import ExtractionRules
from pipelines.extraction.charset import decode_page
from pipelines.extraction.text import BLOCK_TAGS, clean_line

META_NAMES = ("ArticleTitle", "PubDate", "ContentSource", "Keywords", "Description")
_META_BY_LOWER = {name.lower(): name for name in META_NAMES}

# C0 controls other than tab/newline/CR: never text, and lxml refuses them in attribute values.
# A run at a time: a page of 50 MB of NULs is one match, not fifty million.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]+")

# A selector that is one tag, class or id; and the white space XPath's normalize-space() and
# so cssselect's class matching split on.
_SIMPLE_SELECTOR = re.compile(r"([.#]?)(-?[A-Za-z_][A-Za-z0-9_-]*)")
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_WITH_CLASS_OR_ID = etree.XPath("descendant-or-self::*[@class or @id]")


@lru_cache(maxsize=256)
def _css(selector: str) -> etree.XPath | None:
    """Compile a profile selector once; a bad selector is skipped rather than failing pages."""
    try:
        return etree.XPath(HTMLTranslator().css_to_xpath(selector))
    except (SelectorError, etree.XPathError, ValueError):
        return None


@dataclass(frozen=True)
class LabelRules:
    """Regular expressions built from a profile's labels."""

    kinds: dict[str, str]
    anywhere: re.Pattern[str]
    at_start: re.Pattern[str]
    attachment_start: re.Pattern[str]
    text_xpath: etree.XPath
    attachment_xpath: etree.XPath
    extensions: tuple[str, ...]


@lru_cache(maxsize=16)
def _label_rules(rules: ExtractionRules) -> LabelRules:
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

    return LabelRules(
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


class PageBytes:
    """A page's bytes handed over to extraction, which lets go of them once it has parsed
    them: a caller that holds its bytes only through this keeps no 50 MB page alive beside
    the page's tree."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def take(self) -> bytes:
        """The bytes, once: the holder lets go of them."""
        data, self._data = self._data, b""
        return data


def markup_of(body: bytes, content_type: str | None) -> tuple[str, bytes | None, list[str]]:
    """The codec a page is read in, the UTF-8 markup to parse (None: the page is empty) and
    the problems found. Decoded like a browser, but a declared charset checked against the
    bytes (charset.py), and control characters taken out. A page in valid UTF-8 with no
    control character is parsed from its own bytes, not from a copy of them made from its
    text; any other is encoded again from its text, and its bytes let go of (the caller may
    have handed its only reference over: PageBytes)."""
    encoding, text, problems = decode_page(body, content_type)
    clean = _CONTROLS.search(text) is None
    if not clean:
        text = _CONTROLS.sub("", text)
    if not text.strip():
        return encoding, None, problems
    if encoding == "utf-8" and not problems and clean and read_bom(body)[0] is None:
        # decode_page read it strictly (a replacement would be a problem): the same text.
        # (A page opening with byte order marks is read from its text: libxml2 would skip
        # one of them only where the text has them all taken out.)
        return encoding, body, problems
    del body
    return encoding, text.encode("utf-8", "replace"), problems


# huge_tree: without it libxml2 drops a text node or attribute over 10,000,000 bytes and
# everything after it (a page's huge parts are mostly set aside before: slim_markup.py).
_PARSER = lxml_html.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
)


def parse(markup: str | bytes) -> etree._Element | None:
    """The page's tree; `markup` as text, or as UTF-8 (markup_of)."""
    if isinstance(markup, str):
        markup = markup.encode("utf-8", "replace")
    try:
        # Bytes with an explicit encoding: lxml refuses str input that declares its own encoding.
        return etree.fromstring(markup, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


LARGE_PAGE = 1024 * 1024
"""A page this large leaves its parser's freed memory to be given back (give_back_freed_memory)."""


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return cast(
            "Callable[[int], int]", ctypes.CDLL(ctypes.util.find_library("c") or "").malloc_trim
        )
    except (OSError, AttributeError):  # not glibc: nothing to give back this way
        return None


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


@lru_cache(maxsize=1)
def bound_large_allocations() -> None:
    """Have glibc map every allocation of LARGE_PAGE or more on its own and unmap it when
    freed (once per process). By default glibc raises that threshold each time it frees a
    large block, up to 32 MiB, after which a huge page's copies (its text, its UTF-8 form,
    the tree's text) come from the heap and stay there, fragmented, once freed."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "").mallopt
    except (OSError, AttributeError):  # not glibc: its own allocator's ways
        return
    mallopt(_M_MMAP_THRESHOLD, LARGE_PAGE)


def give_back_freed_memory() -> None:
    """Return the memory the parser freed to the system. libxml2 allocates a page's tree in
    many small pieces; once freed, they stay in the C heap, where Python's own objects (in
    arenas of their own) never reuse them: a page naming 100,000 files left some 140 MB so,
    on top of which the archive then wrote its rows."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def safe_join(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip().replace("\n", "").replace("\r", "").replace("\t", "")
    if not href or href.startswith("#"):
        return None
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme in ("javascript", "mailto", "tel", "data", "about", "vbscript"):
        return None
    plain = _PLAIN_NAME.fullmatch(href)
    if plain is not None:
        folder = _folder_of(base)
        if folder is not None:
            return folder + plain.group(1)
    try:
        return urljoin(base, href)
    except ValueError:
        return None


# `name.pdf` or `./name.pdf`: a file beside the page (how TRS links attachments). Joined by
# hand, as urljoin would: a page naming 100,000 files spent most of its reading in urljoin.
_PLAIN_NAME = re.compile(r"(?:\./)?([^/?#:;\\.%\s][^/?#:;\\%\s]*)")
_HTTP_BASE = re.compile(r"(https?://[^/?#]+/(?:[^?#]*/)?)[^/?#]*(?:[?#].*)?")


@lru_cache(maxsize=64)
def _folder_of(base: str) -> str | None:
    """The base URL up to its last `/` (no query nor fragment); None for anything odd."""
    match = _HTTP_BASE.fullmatch(base)
    if match is None or "\\" in base:
        return None
    path = "/" + match.group(1).split("://", 1)[1].partition("/")[2]
    if "/." in path or "//" in path or ";" in base:  # urljoin would rework these
        return None
    return match.group(1)


def ancestors_or_self(element: etree._Element) -> Iterator[etree._Element]:
    yield element
    yield from element.iterancestors()


def inside(element: etree._Element, roots: set[etree._Element]) -> bool:
    return bool(roots) and any(node in roots for node in ancestors_or_self(element))


def encloses(outer: etree._Element, inner: etree._Element) -> bool:
    return any(node is outer for node in ancestors_or_self(inner))


def block_of(element: etree._Element) -> etree._Element:
    for node in ancestors_or_self(element):
        if isinstance(node.tag, str) and node.tag.lower() in BLOCK_TAGS:
            return node
    return element


def owner_of(text: etree._ElementUnicodeResult) -> etree._Element | None:
    """The element a text node is displayed in (the parent of an element whose tail it is)."""
    parent = text.getparent()
    if parent is None:
        return None
    if text.is_tail:
        return parent.getparent()
    return parent


class Page:
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
            joined = safe_join(self.url, str(href))
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
