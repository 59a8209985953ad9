"""Article extraction: page bytes in; title, 来源/时间/作者, body, attachments, images out.

`extract_article` is a pure function of (bytes, URL, site profile's rules), runnable on any
archived snapshot; each field has its reader (title, info, body, links), on the page model
(page, charset, text); provenance names the rules that found them. `ExtractionPipeline` is the
crawl's first stage."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from lxml import etree

from chalco_crawler.items import ArticlePageItem, ExtractedLink, Extraction
from chalco_crawler.profile import ExtractionRules, load_profile
from chalco_crawler.slim_markup import slim
from pipelines.extraction.body import body_html_of, drop_boilerplate_lines, find_body
from pipelines.extraction.info import find_info
from pipelines.extraction.links import attachment_blocks, find_attachments, find_images
from pipelines.extraction.page import (
    LARGE_PAGE,
    Page,
    PageBytes,
    bound_large_allocations,
    encloses,
    give_back_freed_memory,
    markup_of,
    parse,
)
from pipelines.extraction.provenance import describe_template, field_provenance
from pipelines.extraction.text import text_lines
from pipelines.extraction.title import find_title, title_before

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


@lru_cache(maxsize=1)
def _default_rules() -> ExtractionRules:
    return load_profile().extraction


def extract_article(
    body: bytes | PageBytes,
    url: str,
    *,
    content_type: str | None = None,
    rules: ExtractionRules | None = None,
) -> Extraction:
    """Read an article page; never raises: what cannot be found is None, with the reason.
    Bytes handed over as PageBytes are let go of as soon as they are parsed."""
    if rules is None:
        rules = _default_rules()
    if isinstance(body, PageBytes):
        body = body.take()
    elif not isinstance(body, bytes | bytearray | memoryview):
        body = str(body).encode("utf-8", "replace")
    large = len(body) >= LARGE_PAGE
    if large:
        bound_large_allocations()
    # A 50 MB inline script or pasted image is set aside before parsing (slim_markup.py).
    markup = PageBytes(slim(bytes(body)).markup)
    del body  # the slim page, or the page itself, is held by `markup` alone
    extraction = _read(markup, url, content_type, rules)
    if large:
        give_back_freed_memory()
    return extraction


def _read(
    markup: PageBytes, url: str, content_type: str | None, rules: ExtractionRules
) -> Extraction:
    try:
        encoding, utf8, problems = markup_of(markup.take(), content_type)
    except Exception as error:  # noqa: BLE001 - a page must never stop the pipeline
        return _empty("utf-8", [f"page could not be decoded: {error}"])
    if utf8 is None:
        return _empty(encoding, problems + ["page is empty"])
    root = parse(utf8)
    del utf8  # the tree holds the page now
    if root is None:
        return _empty(encoding, problems + ["page could not be parsed as HTML"])
    try:
        return _extract(root, url, rules, encoding, problems)
    except Exception as error:  # noqa: BLE001 - annotate, don't drop: keep the page, say why
        return _empty(encoding, problems + [f"extraction failed: {type(error).__name__}: {error}"])


def _extract(
    root: etree._Element, url: str, rules: ExtractionRules, encoding: str, problems: list[str]
) -> Extraction:
    page = Page(root, url, rules)
    meta = page.meta()
    title, title_node, title_rule = find_title(page, meta)
    body_node, body_rule = find_body(page)
    info = find_info(page, title_node, body_node)
    if title_rule in ("title-tag", "") and info.elements:
        # Unknown template: the heading right above the 来源/时间 line is the visible title.
        near = title_before(page, info.elements[0], title)
        if near is not None:
            title_node, title = near
            title_rule = "labels"
    blocks, loose, attachment_rule = attachment_blocks(page, body_node)

    if title_node is not None and (body_node is None or not encloses(title_node, body_node)):
        page.skip.add(title_node)
    for node in info.elements:
        if body_node is None or not encloses(node, body_node):
            page.skip.add(node)
    page.skip.update(blocks)

    body_text = body_html = None
    images: list[ExtractedLink] = []
    if body_node is not None:
        lines = drop_boilerplate_lines(text_lines(body_node, page.skip), page.labels)
        body_text = "\n".join(lines) or None
        images = find_images(page, body_node)
    attachments = find_attachments(page, body_node, blocks, loose)
    if body_node is not None and (body_text is not None or images):
        # The page's last reading: its body is changed in place rather than copied.
        body_html = body_html_of(page, body_node, in_place=True)

    if title is None:
        problems.append("title not found")
    if not info.time:
        problems.append("publication time not found")
    if body_node is None:
        problems.append("body not found")
    elif body_text is None:
        problems.append("body is empty" if not images else "body has no text, only images")

    rules_used = [rule for rule in (title_rule, info.rule, body_rule, attachment_rule) if rule]
    provenance = field_provenance(
        info.origins,
        title_rule=title_rule if title is not None else None,
        body_rule=body_rule if body_text is not None else None,
        attachment_rule=attachment_rule if attachments else None,
        images=bool(images),
    )
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
        template=describe_template(rules_used),
        problems=problems,
        provenance=provenance,
    )


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
            PageBytes(item.body),  # its only holder once item.body is emptied
            item.final_url,
            content_type=item.content_type,
            rules=profile.extraction,
        )
        item.body = b""  # read once; the archive holds it (items.py)
        if self._pool is None:
            item.extraction = work()
        else:
            item.extraction = await asyncio.wrap_future(self._pool.submit(work))
        del work
        if item.extraction.problems:
            self.crawler.stats.inc_value("extraction/flagged")
        return item
