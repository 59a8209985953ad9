"""A page whose body the downloader spooled to disk (chalco_crawler/download.py): what the
spider reads instead of `response.body`, once, and then lets go of; and a huge page made
light to read links from."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.http import Response

from archive.store.decoding import decode_content
from archive.store.warcstore import SpooledPayload
from chalco_crawler.slim_markup import MIN_PART, slim

SPOOLED_PAGE_META_KEY = "archive_spooled_page"
"""A 200 page's SpooledPage, set by the WARC middleware once the page is archived."""


@dataclass
class SpooledPage:
    payload: SpooledPayload
    """The body as received (still Content-Encoded)."""
    content_encoding: str | None
    """Its Content-Encoding, taken off the response (whose own body is empty)."""


def page_body(response: Response, limit: int) -> bytes:
    """The page's content: the response's body, or, when it was spooled, the file's bytes
    with their Content-Encoding undone (at most `limit` bytes; the capture was flagged
    oversize past it, and is never read). A spool is read once: the file is closed after."""
    spooled: SpooledPage | None = response.meta.pop(SPOOLED_PAGE_META_KEY, None)
    if spooled is None:
        return response.body
    try:
        spooled.payload.file.seek(0)
        raw = spooled.payload.file.read()  # one allocation, not a list of chunks joined
        return decode_content(raw, spooled.content_encoding, limit)
    finally:
        spooled.payload.file.close()


def slim_response(response: Response, body: bytes) -> Response:
    """The response to read links from: itself when its body is ordinary, else a copy whose
    body is `body` slimmed (chalco_crawler/slim_markup.py: a huge inline script or pasted
    image set aside), so that a list page of 50 MB parses like one of 50 KB."""
    if body is response.body and len(body) < MIN_PART:
        return response
    return response.replace(body=slim(body).markup)
