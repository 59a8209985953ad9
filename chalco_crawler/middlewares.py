"""Downloader middleware: every HTTP response, as received, goes to the archive's WARC files."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from archive.errors import StorageFailed
from archive.store.warcstore import HttpExchange
from chalco_crawler import signals as project_signals
from chalco_crawler.session import CrawlSession

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
    the spider and the pipelines see the flag and do not read it."""

    def __init__(self, session: CrawlSession, max_size: int):
        self.session = session
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        return cls(CrawlSession.of(crawler), crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_response(self, request: Request, response: Response) -> Response:
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
        request.meta[CAPTURE_META_KEY] = capture
        self.session.stats.inc_value("archive/captures")
        self.session.stats.inc_value(f"archive/captures_{capture.record_type}")
        if capture.oversize is not None and response.status != 304:
            self.session.stats.inc_value("archive/captures_oversize")
            self.session.crawler.signals.send_catch_log(
                project_signals.capture_oversize, url=request.url, reason=capture.oversize
            )
            del response.headers["Content-Encoding"]
        return response
