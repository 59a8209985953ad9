"""The body: the profile's body selectors, else the element with the most paragraph text
(the density fallback); its lines without print/share controls, and its HTML cleaned."""

from __future__ import annotations

import copy
import re

from lxml import etree

from pipelines.extraction.links import MAX_CAPTION_CHARS
from pipelines.extraction.page import LabelRules, Page, encloses, inside
from pipelines.extraction.text import clean_line

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

# Lines that are print/close/share controls, not text: 【打印本页】【关闭窗口】 and friends.
_CONTROL_GROUP = (
    r"[【\[]\s*[^】\]]{0,12}?(?:打印|关闭|返回|收藏|分享|字体|字号|顶部|推荐)"
    r"[^】\]]{0,12}[】\]]"
)
_CONTROL_LINE = re.compile(
    rf"^(?:{_CONTROL_GROUP}\s*)+$|^分享到[：:]?.{{0,40}}$"
    r"|^(?:当前位置|您的位置|您现在的位置)[：:]"
)
_HTML_DROP = ("script", "style", "noscript", "template")


def find_body(page: Page) -> tuple[etree._Element | None, str]:
    empty: etree._Element | None = None
    for selector in page.rules.body:
        best: etree._Element | None = None
        best_size = -1
        for node in page.select(selector):
            if inside(node, page.boilerplate):
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


def _densest(page: Page) -> etree._Element | None:
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
        if not inside(node, furniture) and node.tag not in ("html", "head"):
            # Class names are only a hint: furniture inside the chosen text stays text.
            page.skip.update(f for f in furniture if not encloses(node, f))
            return node
    return None


def drop_boilerplate_lines(lines: list[str], labels: LabelRules) -> list[str]:
    kept = [line for line in lines if not _CONTROL_LINE.match(line)]
    # A trailing 附件 line (printed even with no attachment) and the file names after it.
    for index in range(len(kept) - 1, max(-1, len(kept) - 21), -1):
        if labels.attachment_start.match(kept[index]):
            if all(len(line) <= MAX_CAPTION_CHARS for line in kept[index:]):
                kept = kept[:index]
            break
    return kept


def body_html_of(page: Page, body: etree._Element, in_place: bool = False) -> str | None:
    """The body's HTML: scripts and the like dropped, links made absolute, in a copy of the
    body or, `in_place`, in the page itself (its last reading: no copy of a 50 MB body)."""
    fragment = body if in_place else copy.deepcopy(body)
    fragment.tail = None
    for node in list(fragment.iter(*_HTML_DROP)):
        if node is not fragment:
            node.drop_tree()  # keeps the tail, which is text outside the removed element
    fragment.make_links_absolute(page.base, resolve_base_href=False, handle_failures="ignore")
    return etree.tostring(fragment, encoding="unicode", method="html").strip() or None
