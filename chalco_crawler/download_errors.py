"""Why a download failed, in a line a person can act on.

Scrapy's errors carry Twisted's reprs or nothing at all: `DownloadFailedError: [<twisted.
python.failure.Failure twisted.internet.error.ConnectionDone: Connection was closed cleanly.>]`
for a server that hung up mid-headers, `DownloadCancelledError: ` for a cancelled download.
`describe` says what happened instead; the error's class stays at the end, in parentheses,
for whoever searches a log for it. The size limit and a cut body are worded where they are
raised (chalco_crawler/download.py).
"""

from __future__ import annotations

import re

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
)
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from chalco_crawler.download import BodyCutOff, SizeLimitExceeded, SpoolFailed, StopCancelled

_SECONDS = re.compile(r"took longer than ([\d.]+) seconds")


def describe(error: BaseException) -> str:
    """One line for the error a download (or a request's errback) ended with."""
    if isinstance(error, SizeLimitExceeded | BodyCutOff | SpoolFailed | StopCancelled):
        return str(error)
    name = type(error).__name__
    if isinstance(error, DownloadTimeoutError):
        seconds = _SECONDS.search(str(error))
        within = f" within {float(seconds.group(1)):g} s" if seconds else ""
        return f"no complete answer{within} (DownloadTimeoutError)"
    if isinstance(error, DownloadFailedError):
        return _connection_failure(error.__cause__) or _plain(name, error)
    if isinstance(error, ResponseFailed):
        return _connection_failure(error) or _plain(name, error)
    if isinstance(error, DownloadConnectionRefusedError):
        return "connection refused: nothing answers at that address (ConnectionRefusedError)"
    if isinstance(error, CannotResolveHostError):
        return f"host name not found: {error} (CannotResolveHostError)"
    if isinstance(error, DownloadCancelledError) and not str(error):
        return "download cancelled before it ended (the crawl was stopping)"
    return _plain(name, error)


def _connection_failure(cause: BaseException | None) -> str | None:
    """What a Twisted ResponseFailed (or ResponseNeverReceived) means."""
    if not isinstance(cause, ResponseFailed):
        return None
    reasons = [getattr(reason, "value", reason) for reason in cause.reasons]
    lost = next((r for r in reasons if isinstance(r, ConnectionLost | ConnectionDone)), None)
    if lost is None:
        return None
    how = type(lost).__name__
    if isinstance(cause, ResponseNeverReceived):
        if isinstance(lost, ConnectionDone):
            return f"the server closed the connection without answering ({how})"
        return f"the connection was lost before the server answered ({how})"
    return f"the server closed the connection mid-headers ({how})"


def _plain(name: str, error: BaseException) -> str:
    return f"{name}: {error}".strip().rstrip(":")
