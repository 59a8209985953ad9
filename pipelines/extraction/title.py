"""The title: the profile's title selectors, else the meta ArticleTitle or the <title>
without the site's name; a title cut short with … made whole; the heading above the info line
on an unknown template."""

from __future__ import annotations

import re

from lxml import etree

from pipelines.extraction.page import Page, ancestors_or_self
from pipelines.extraction.text import SKIP_TAGS, clean_line, inline_text

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
_ELLIPSIS = re.compile(r"(?:…+|\.{3,}|．{3,}|。{3,})$")
_TITLE_SEPARATORS = re.compile(r"(\s*(?:_|\||｜|－|—+|\s-\s|-)\s*)")


def find_title(page: Page, meta: dict[str, str]) -> tuple[str | None, etree._Element | None, str]:
    """The title, the element it came from (to keep it out of the body) and the rule used."""
    page_title = None
    for node in page.root.iter("title"):
        page_title = _strip_title_suffix(inline_text(node))
        break
    for selector in page.rules.title:
        for node in page.select(selector):
            if node.tag == "meta":
                text = clean_line(node.get("content") or "")
            elif _is_logo(node):
                continue
            else:
                text = inline_text(node)
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
    candidates = [clean_line(n.get("title") or "") for n in ancestors_or_self(node)]
    candidates += [clean_line(n.get("title") or "") for n in node.iterdescendants()]
    candidates += [meta.get("ArticleTitle") or "", page_title or ""]
    for candidate in candidates:
        if len(candidate) > len(prefix) and candidate.startswith(prefix):
            return candidate
    return visible


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
    for node in ancestors_or_self(element):
        marks = f"{node.get('class', '')} {node.get('id', '')}".lower()
        if "logo" in marks or node.tag in ("nav", "footer"):
            return True
    return False


_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6 strong b".split())


def title_before(
    page: Page, info_node: etree._Element, page_title: str | None
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
                text = inline_text(previous)
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
