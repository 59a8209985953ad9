"""The links an article names: attachments (the 附件 block, documents linked in the body) and
the body's images with their captions, each URL made absolute and listed once."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml import etree

from chalco_crawler.items import ExtractedLink
from pipelines.extraction.page import Page, block_of, encloses, inside, owner_of, safe_join
from pipelines.extraction.text import BLOCK_TAGS, clean_line, inline_text, join_inline

# A caption is a short line; so are the file names listed under a 附件 line.
MAX_CAPTION_CHARS = 120


def attachment_blocks(
    page: Page, body: etree._Element | None
) -> tuple[list[etree._Element], list[etree._Element], str]:
    """Elements whose links are all attachments, and single anchors found after a bare label."""
    blocks: list[etree._Element] = []
    anchors: list[etree._Element] = []
    rule = ""
    for selector in page.rules.attachments:
        for node in page.select(selector):
            if not inside(node, page.boilerplate) and not (
                body is not None and encloses(node, body)
            ):
                blocks.append(node)
        if blocks:
            return blocks, anchors, f"selectors:{selector}"
    for text in page.labels.attachment_xpath(page.root):
        if not page.labels.attachment_start.match(text):
            continue
        owner = owner_of(text)
        if owner is None or inside(owner, page.boilerplate):
            continue
        block = block_of(owner)
        if block.tag in ("body", "html") or (body is not None and encloses(block, body)):
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
            if not links or inline_text(sibling) != join_inline(inline_text(a) for a in links):
                break
            blocks.append(sibling)
    return blocks, anchors, rule


def _is_document(page: Page, anchor: etree._Element) -> bool:
    url = safe_join(page.base, anchor.get("href"))
    if url is None:
        return False
    path = urlsplit(url).path.lower()
    if path.endswith(page.labels.extensions):
        return True
    return inline_text(anchor).lower().endswith(page.labels.extensions)


def _link(page: Page, anchor: etree._Element) -> ExtractedLink | None:
    url = safe_join(page.base, anchor.get("href"))
    if url is None:
        return None
    name = inline_text(anchor) or clean_line(anchor.get("title") or "") or None
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


def find_attachments(
    page: Page,
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
                text = inline_text(caption)
                if text:
                    return text
        if node.tag in BLOCK_TAGS:
            block = node
            break
        inline_top = node
    if block is not body:
        text = inline_text(block)
        if text and len(text) <= MAX_CAPTION_CHARS and sum(1 for _ in block.iter("img")) == 1:
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
        text = inline_text(following)
        if text and len(text) <= MAX_CAPTION_CHARS and _is_centred(following):
            return text
    return None


def find_images(page: Page, body: etree._Element) -> list[ExtractedLink]:
    links: list[ExtractedLink] = []
    for image in body.iter("img"):
        if inside(image, page.skip):
            continue
        src = image.get("src") or image.get("data-src") or image.get("data-original")
        url = safe_join(page.base, src)
        if url is None:
            continue
        name = _caption(image, body) or clean_line(image.get("alt") or "") or None
        links.append(ExtractedLink(url=url, name=name))
    return _dedupe(links)
