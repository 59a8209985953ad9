"""A page whose body is not held in the response (`response.body` is empty): spooled to disk
by the downloader (chalco_crawler/download.py), or small on the wire and large once its
Content-Encoding is undone. The WARC middleware sets it aside as a `PendingPage`; the spider
reads it once, with `page_body`, when its callback runs, so that pages waiting their turn
hold only what came on the wire. And a huge page made light to read links from.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.http import Response

from archive.store.decoding import decode_content
from archive.store.warcstore import SpooledPayload
from chalco_crawler.slim_markup import MIN_PART, slim

PENDING_PAGE_META_KEY = "archive_pending_page"
"""A 200 page's PendingPage, set by the WARC middleware once the page is archived."""


@dataclass
class PendingPage:
    payload: SpooledPayload | bytes
    """The body as received (still Content-Encoded): in its spool file, or in memory."""
    content_encoding: str | None
    """Its Content-Encoding, taken off the response."""


def page_body(response: Response, limit: int) -> bytes:
    """The page's content: the response's body, or its pending body with the
    Content-Encoding undone (at most `limit` bytes; past it the capture was flagged
    oversize and is never read). A pending body is read once; a spool file is closed after."""
    pending: PendingPage | None = response.meta.pop(PENDING_PAGE_META_KEY, None)
    if pending is None:
        return response.body
    if isinstance(pending.payload, bytes):
        return decode_content(pending.payload, pending.content_encoding, limit)
    try:
        pending.payload.file.seek(0)
        raw = pending.payload.file.read()  # one allocation, not a list of chunks joined
        return decode_content(raw, pending.content_encoding, limit)
    finally:
        pending.payload.file.close()


def slim_response(response: Response, body: bytes) -> Response:
    """The response to read links from: itself when its body is ordinary, else a copy whose
    body is `body` slimmed (chalco_crawler/slim_markup.py: a huge inline script or pasted
    image set aside), so that a list page of 50 MB parses like one of 50 KB."""
    if body is response.body and len(body) < MIN_PART:
        return response
    return response.replace(body=slim(body).markup)
