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
    body or, `in_place`, in the page itself (its last reading: no copy of a 50 MB body, and
    its huge texts are lifted out of the tree before it is serialised: lifted_out)."""
    fragment = body if in_place else copy.deepcopy(body)
    fragment.tail = None
    for node in list(fragment.iter(*_HTML_DROP)):
        if node is not fragment:
            node.drop_tree()  # keeps the tail, which is text outside the removed element
    fragment.make_links_absolute(page.base, resolve_base_href=False, handle_failures="ignore")
    lifted = _lift_huge_texts(fragment) if in_place else []
    html = etree.tostring(fragment, encoding="unicode", method="html")
    if lifted:
        try:
            html = _put_back(html, lifted)
        except ValueError:  # the page's own text holds a marker: serialised in the tree
            for node, attribute, _mark, text in lifted:
                setattr(node, attribute, text)
            del lifted
            html = etree.tostring(fragment, encoding="unicode", method="html")
    return html.strip() or None


HUGE_TEXT = 1024 * 1024
"""Characters of a text node that is lifted out of the tree to be serialised on its own."""
_MARK = "\ue000chalco-lifted-{}\ue001"  # private-use characters around it


Lifted = tuple[etree._Element, str, str, str]
"""A text lifted out of the tree: its element, "text" or "tail", the marker, the text."""


def _lift_huge_texts(fragment: etree._Element) -> list[Lifted]:
    """Each text or tail of HUGE_TEXT characters or more under `fragment` (itself excluded,
    whose tail is gone) replaced by a marker. libxml2 serialises a
    tree into a buffer of its own before lxml decodes it, so a 50 MB paragraph left in the
    tree would be there three times over (the tree's, the buffer's, the result's)."""
    lifted: list[Lifted] = []
    for node in fragment.iter():
        for attribute in ("text", "tail"):
            if attribute == "tail" and node is fragment:
                continue
            value = getattr(node, attribute)
            if value is not None and len(value) >= HUGE_TEXT:
                mark = _MARK.format(len(lifted))
                setattr(node, attribute, mark)  # the tree lets go of its copy
                lifted.append((node, attribute, mark, value))
    return lifted


def _put_back(html: str, lifted: list[Lifted]) -> str:
    """The serialised fragment with each marker replaced by its text, escaped as the
    serialiser would have (by lxml itself, a slice at a time); ValueError when a marker is
    found other than once (the page's own text holds one)."""
    pieces: list[str] = []
    rest = html
    for _node, _attribute, mark, text in lifted:
        before, found, after = rest.partition(mark)
        if not found or mark in after:
            raise ValueError("a lifted text's marker is in the page")
        pieces.append(before)
        pieces += (_escaped(text[at : at + HUGE_TEXT]) for at in range(0, len(text), HUGE_TEXT))
        rest = after
    pieces.append(rest)
    return "".join(pieces)


def _escaped(text: str) -> str:
    """`text` as lxml serialises a text node in HTML."""
    holder = etree.Element("p")
    holder.text = text
    return etree.tostring(holder, encoding="unicode", method="html")[len("<p>") : -len("</p>")]
