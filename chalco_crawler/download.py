"""The HTTP download handler: Scrapy's HTTP/1.1 client, with large bodies spooled to disk and
download failures that say what happened.

Scrapy holds every body in memory until it is complete, and an attachment may be as large as
ATTACHMENT_MAXSIZE (512 MiB): an endless one took some 650 MB of memory before the limit
tripped. Here a body that grows past DOWNLOAD_SPOOL_SIZE goes on into an unlinked file beside
the WARC files (nothing is left of it if the crawl dies), and its SHA-256 is taken as it is
written. The response then has an empty body and the file under `SPOOL_META_KEY`
(`archive.store.warcstore.SpooledPayload`): the WARC middleware copies the file into the
archive a chunk at a time, and whoever reads such a page takes it from the file
(chalco_crawler/spooled.py).

Scrapy's own errors for a size limit or a cut body carry no message (`DownloadCancelledError: `,
`ResponseDataLossError`); these say which limit and how many bytes came
(chalco_crawler/download_errors.py turns the rest into words).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import IO, Any, cast

from scrapy import Request, signals
from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _ResponseReader,
    _ResultT,
    _ScrapyAgent,
)
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from scrapy.http import Response
from scrapy.utils._download_handlers import check_stop_download, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web.client import Response as TxResponse
from twisted.web.client import ResponseDone, ResponseFailed
from twisted.web.http import PotentialDataLoss, _DataLoss
from twisted.web.iweb import UNKNOWN_LENGTH

from archive.store.home import ArchiveHome
from archive.store.warcstore import SpooledPayload
from chalco_crawler.stop_signal import STOP

logger = logging.getLogger(__name__)

SPOOL_META_KEY = "archive_spooled"
"""Where a response whose body was spooled to disk keeps it (a SpooledPayload)."""
DEFAULT_SPOOL_SIZE = 4 * 1024 * 1024
TRUNCATED_FLAG = "truncated"
"""The flag of a response cut at its request's `download_truncate_at` bytes."""


def size_text(size: int) -> str:
    """`32 MiB`, `1.5 MiB`, `640 KiB`, `512 bytes`: a size as a person reads it."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class SizeLimitExceeded(DownloadCancelledError):
    """A body larger than the request's size limit: refused before or while it came."""

    def __init__(self, limit: int, declared: int | None = None, received: int | None = None):
        if declared is not None:
            how = f"Content-Length {declared:,} bytes; not downloaded"
        else:
            how = f"cut off after {received or 0:,} bytes"
        super().__init__(f"larger than the {size_text(limit)} size limit ({how})")
        self.limit = limit


class BodyCutOff(ResponseDataLossError):
    """The connection ended before the body did."""

    def __init__(self, received: int, expected: int | None):
        if expected is not None and expected >= 0:
            what = f"body cut off after {received:,} of {expected:,} bytes"
        else:
            what = f"body cut off after {received:,} bytes"
        super().__init__(f"{what}: the server closed the connection")


class StopCancelled(DownloadCancelledError):
    """A download cut short because the crawl was told to stop; never retried."""


class SpoolFailed(DownloadCancelledError):
    """The spool file could not be written (a full disk)."""


class SpoolingDownloadHandler(HTTP11DownloadHandler):
    """`http` and `https` (settings.DOWNLOAD_HANDLERS)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._spool_size = crawler.settings.getint("DOWNLOAD_SPOOL_SIZE", DEFAULT_SPOOL_SIZE)
        self._spool_dir = ArchiveHome.at(crawler.settings.get("ARCHIVE_HOME")).warc_dir
        self._stop_grace = crawler.settings.getfloat("DOWNLOAD_STOP_GRACE", 2.0)
        self._in_flight: set[Deferred[Response]] = set()
        self._cancelled: set[Deferred[Response]] = set()
        STOP.on_stop(self._stopping)

    def _stopping(self) -> None:
        """A stop signal came: what is in flight gets DOWNLOAD_STOP_GRACE seconds to end
        (and be archived), then it is cancelled (and archived nowhere): a download from a
        slow server must not hold the crawl's stop for its whole timeout."""
        from twisted.internet import reactor

        cast(Any, reactor).callLater(self._stop_grace, self._cancel_in_flight)

    def _cancel_in_flight(self) -> None:
        for download in list(self._in_flight):
            self._cancelled.add(download)
            download.cancel()

    async def download_request(self, request: Request) -> Response:
        agent = _SpoolingAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        agent.spool = (self._spool_size, self._spool_dir)
        download = agent.download_request(request)
        self._in_flight.add(download)
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(download)
        except Exception as error:
            if download in self._cancelled:  # not a failure to retry: the crawl is stopping
                raise StopCancelled(
                    f"cancelled: the crawl was told to stop ({self._stop_grace:g} s"
                    " DOWNLOAD_STOP_GRACE passed)"
                ) from error
            raise
        finally:
            self._in_flight.discard(download)
            self._cancelled.discard(download)


class _SpoolingAgent(_ScrapyAgent):
    spool: tuple[int, Path]

    def _cb_bodyready(
        self, txresponse: TxResponse, request: Request
    ) -> _ResultT | Deferred[_ResultT]:
        # Scrapy 2.19's, with the reader below and limits that say which they are.
        if stop_download := check_stop_download(
            signals.headers_received,
            self._crawler,
            request,
            headers=self._headers_from_twisted_response(txresponse),
            body_length=txresponse.length,
        ):
            txresponse._transport.stopProducing()
            txresponse._transport.loseConnection()
            return {"txresponse": txresponse, "stop_download": stop_download}
        if cast("int", txresponse.length) == 0:  # deliverBody hangs for responses without body
            return {
                "txresponse": txresponse,
                "certificate": getattr(txresponse, "_scrapy_certificate", None),
                "ip_address": getattr(txresponse, "_scrapy_ip_address", None),
            }
        maxsize = request.meta.get("download_maxsize", self._maxsize)
        warnsize = request.meta.get("download_warnsize", self._warnsize)
        expected = cast("int", txresponse.length) if txresponse.length != UNKNOWN_LENGTH else None
        if maxsize and expected is not None and expected > maxsize:
            txresponse._transport._producer.abortConnection()
            error = SizeLimitExceeded(maxsize, declared=expected)
            logger.warning("%s: %s", request.url, error)
            raise error
        if warnsize and expected is not None and expected > warnsize:
            logger.warning("%s: %s bytes expected", request.url, f"{expected:,}")
        finished: Deferred[_ResultT] = Deferred(partial(self._cancel, txresponse=txresponse))
        spool_size, spool_dir = self.spool
        txresponse.deliverBody(
            _SpoolingReader(
                finished=finished,
                txresponse=txresponse,
                request=request,
                maxsize=maxsize,
                warnsize=warnsize,
                reached_warnsize=bool(warnsize and expected is not None and expected > warnsize),
                fail_on_dataloss=request.meta.get(
                    "download_fail_on_dataloss", self._fail_on_dataloss
                ),
                crawler=self._crawler,
                tls_verbose_logging=self._tls_verbose_logging,
                spool_size=request.meta.get("download_spool_size", spool_size),
                spool_dir=spool_dir,
            )
        )
        self._txresponse = txresponse  # for timeouts
        return finished


class _SpoolingReader(_ResponseReader):
    """Scrapy's body reader, writing to a file once the body passes `spool_size` bytes."""

    def __init__(self, *args: Any, spool_size: int, spool_dir: Path, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._spool_size = spool_size
        self._spool_dir = spool_dir
        self._spool: IO[bytes] | None = None
        self._handed_over = False
        """Whether the spool went to the response (whoever reads it closes it)."""
        self._digest = hashlib.sha256()

    def dataReceived(self, data: bytes) -> None:
        if self._finished.called:  # may be called with buffered data after a cancel
            return
        assert self.transport
        self._bytes_received += len(data)
        try:
            self._keep(data)
        except OSError as spool_error:
            reason = spool_error.strerror or str(spool_error)
            self._fail(SpoolFailed(f"cannot spool the body to disk: {reason}"))
            return
        truncate_at = self._request.meta.get("download_truncate_at")
        if truncate_at and self._bytes_received >= truncate_at:
            self._truncate(truncate_at)
            return
        if stop_download := check_stop_download(
            signals.bytes_received, self._crawler, self._request, data=data
        ):
            self.transport.stopProducing()
            self.transport.loseConnection()  # type: ignore[misc]
            self._finish_response(stop_download=stop_download)
            return
        if self._maxsize and self._bytes_received > self._maxsize:
            refusal = SizeLimitExceeded(self._maxsize, received=self._bytes_received)
            logger.warning("%s: %s", self._request.url, refusal)
            self._fail(refusal)
            return
        if self._warnsize and self._bytes_received > self._warnsize and not self._reached_warnsize:
            self._reached_warnsize = True
            logger.warning("%s: over %s bytes", self._request.url, f"{self._warnsize:,}")

    def _keep(self, data: bytes) -> None:
        if self._spool is not None:
            self._spool.write(data)
            self._digest.update(data)
            return
        self._bodybuf.write(data)
        if self._spool_size and self._bodybuf.tell() > self._spool_size:
            self._spool_dir.mkdir(parents=True, exist_ok=True)
            # Unlinked from the start (O_TMPFILE on Linux): gone with the process.
            self._spool = tempfile.TemporaryFile(dir=self._spool_dir, prefix="spool-")
            held = self._bodybuf.getbuffer()
            self._spool.write(held)
            self._digest.update(held)
            del held
            self._bodybuf = BytesIO()

    def _truncate(self, limit: int) -> None:
        """End the body at its last line break within `limit` bytes (robots.txt: what
        follows the limit is ignored, as search engines do), flagged `truncated`."""
        held = self._bodybuf.getvalue()[:limit]
        cut = held.rfind(b"\n") + 1
        self._bodybuf = BytesIO(held[:cut] if cut else held)
        self._bodybuf.seek(0, 2)
        self._drop_spool()
        self._txresponse._transport._producer.abortConnection()
        self._finish_response(flags=[TRUNCATED_FLAG])

    def _fail(self, error: Exception) -> None:
        self._drop_spool()
        self._bodybuf = BytesIO()
        self._txresponse._transport._producer.abortConnection()
        self._finished.errback(Failure(error))

    def _drop_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def _finish_response(self, flags: list[str] | None = None, stop_download: Any = None) -> None:
        if self._spool is not None:
            self._spool.flush()
            self._request.meta[SPOOL_META_KEY] = SpooledPayload(
                self._spool, self._bytes_received, self._digest.hexdigest()
            )
            self._handed_over = True
        super()._finish_response(flags=flags, stop_download=stop_download)

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self._finished.called:
            if not self._handed_over:
                self._drop_spool()  # cancelled (a timeout, a stop): nobody reads the file
            return
        if reason is None or reason.check(ResponseDone):
            self._finish_response()
            return
        if reason.check(PotentialDataLoss):
            self._finish_response(flags=["partial"])
            return
        assert reason.check(ResponseFailed)
        assert any(r.check(_DataLoss) for r in reason.value.reasons)  # type: ignore[union-attr]
        if not self._fail_on_dataloss:
            self._finish_response(flags=["dataloss"])
            return
        self._drop_spool()
        length = self._txresponse.length
        error = BodyCutOff(
            self._bytes_received, None if length == UNKNOWN_LENGTH else cast("int", length)
        )
        error.__cause__ = reason.value
        self._finished.errback(Failure(error))
