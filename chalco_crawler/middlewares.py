"""Downloader middleware: every HTTP response, as received, goes to the archive's WARC files."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from archive.errors import StorageFailed
from archive.store.warcstore import HttpExchange, SpooledPayload
from chalco_crawler import signals as project_signals
from chalco_crawler.download import (
    DEFAULT_SPOOL_SIZE,
    SPOOL_META_KEY,
    TRUNCATED_FLAG,
    size_text,
)
from chalco_crawler.session import CrawlSession
from chalco_crawler.spooled import PENDING_PAGE_META_KEY, PendingPage

# The meta key under which a response's capture (archive.store.writer.values.CaptureInfo) is
# passed on.
CAPTURE_META_KEY = "archive_capture"
# A request whose response is to be stored as a whole response record in any case, never a
# revisit (`repair`: a replacement holds its bytes itself).
WHOLE_META_KEY = "archive_whole"


def _header_pairs(headers: object) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():  # type: ignore[attr-defined]
        text_name = name.decode("latin-1")
        for value in values:
            pairs.append((text_name, value.decode("latin-1")))
    return pairs


class WarcCaptureMiddleware:
    """Sits next to the downloader (order 950), so it sees the payload before Scrapy decodes
    gzip and every response before retries and redirects act on it: each one is archived.

    The writer decodes the payload in chunks to digest it, up to the request's size limit
    (`download_maxsize`, else DOWNLOAD_MAXSIZE), the limit Scrapy's own decoding has. A
    payload past it (a decompression bomb) is flagged oversize, and its Content-Encoding is
    taken off the response that goes on, so that nothing inflates it in memory after us:
    the spider and the pipelines see the flag and do not read it.

    A body the downloader spooled to disk (chalco_crawler/download.py) is copied from its
    file a chunk at a time. Then, like a body whose content is larger than the spool size
    once decoded, it leaves the response: a file's for good (its capture is all the crawl
    needs; nothing inflates it in memory), a page's to be read once by the spider
    (chalco_crawler/spooled.py). Responses waiting for their callback hold no large body."""

    def __init__(self, session: CrawlSession, max_size: int, spool_size: int = DEFAULT_SPOOL_SIZE):
        self.session = session
        self.max_size = max_size
        self.spool_size = spool_size or DEFAULT_SPOOL_SIZE

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        settings = crawler.settings
        return cls(
            CrawlSession.of(crawler),
            settings.getint("DOWNLOAD_MAXSIZE"),
            settings.getint("DOWNLOAD_SPOOL_SIZE", DEFAULT_SPOOL_SIZE),
        )

    @staticmethod
    def _truncated(request: Request, response: Response) -> str | None:
        if TRUNCATED_FLAG not in response.flags:
            return None
        limit = size_text(request.meta["download_truncate_at"])
        return f"larger than the {limit} limit: read up to it, the rest ignored"

    def process_response(self, request: Request, response: Response) -> Response:
        # Taken off the request: a retry or redirect (a copy of its meta) downloads anew.
        spooled = request.meta.pop(SPOOL_META_KEY, None)
        exchange = HttpExchange(
            url=request.url,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            status=response.status,
            protocol=response.protocol or "HTTP/1.1",
            response_headers=_header_pairs(response.headers),
            payload=response.body,
            fetched_at=datetime.now(UTC),
            ip_address=str(response.ip_address) if response.ip_address else None,
            spooled=spooled,
            truncated=self._truncated(request, response),
        )
        limit = request.meta.get("download_maxsize", self.max_size)
        try:
            capture = self.session.writer.record_exchange(
                exchange, max_decoded=limit, whole=request.meta.get(WHOLE_META_KEY, False)
            )
        except StorageFailed as error:
            # Nothing more can be archived: stop the crawl rather than fetch in vain.
            self.session.storage_failed(str(error))
            raise IgnoreRequest(str(error)) from error
        finally:
            if spooled is not None and (request.meta.get("archive_role") or response.status != 200):
                spooled.file.close()  # a file's bytes, or an error page's: archived, done
        request.meta[CAPTURE_META_KEY] = capture
        self.session.stats.inc_value("archive/captures")
        self.session.stats.inc_value(f"archive/captures_{capture.record_type}")
        if capture.oversize is not None and response.status != 304:
            self.session.stats.inc_value("archive/captures_oversize")
            self.session.crawler.signals.send_catch_log(
                project_signals.capture_oversize, url=request.url, reason=capture.oversize
            )
        if exchange.truncated:
            self.session.crawler.signals.send_catch_log(
                project_signals.capture_oversize, url=request.url, reason=exchange.truncated
            )
        if capture.oversize is not None and response.status != 304:
            response.headers.pop("Content-Encoding", None)
        elif spooled is not None or (
            response.status == 200 and capture.content_size > self.spool_size
        ):
            return self._set_aside(request, response, spooled)
        return response

    @staticmethod
    def _set_aside(
        request: Request, response: Response, spooled: SpooledPayload | None
    ) -> Response:
        """A large body leaves the response: a file's for good (its capture is all the crawl
        needs of it), a page's as a PendingPage, decoded when the spider reads it."""
        codings = [v.decode("latin-1") for v in response.headers.getlist("Content-Encoding")]
        if not request.meta.get("archive_role") and not (spooled and spooled.file.closed):
            request.meta[PENDING_PAGE_META_KEY] = PendingPage(
                spooled or response.body, ", ".join(codings) or None
            )
        response.headers.pop("Content-Encoding", None)
        return response.replace(body=b"")
