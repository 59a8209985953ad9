"""The probe before a first crawl: a crawl into an empty home first runs `probe`'s crawl
(chalco_crawler/probe_spider.py) on the sections it will walk, and archives nothing when the
site profile does not fit (probe_report.profile_misfit): a redesigned template read with an
old profile would otherwise fill a new archive with misread records. `--no-probe` skips it.

Both crawls run in the same process and reactor, one after the other (run.py). The probe
asks for pages the crawl asks for again (robots.txt, the home page, the first list pages, a
few articles): it keeps each small answer here (RecordProbeAnswers, next to the downloader),
and the crawl is handed them instead of asking the site twice (ReplayProbeAnswers, next to
the downloader too, so that the WARC middleware archives them like any answer). The site
sees each of those requests once, and the probe adds little to a first crawl's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings

from archive.store.home import ArchiveHome

KEPT_BODY = 1024 * 1024
"""Answers the probe keeps for the crawl at most this large; a larger one is asked again."""
PROBE_MAXSIZE = 8 * 1024 * 1024
"""The probe reads pages up to this size: a larger one is left to the crawl, which spools it
(the probe holds what it reads in memory), and is no sample of how the profile reads."""


class ProbeAnswers:
    """The probe's answers, by URL, each handed to the crawl once."""

    def __init__(self) -> None:
        self._answers: dict[str, Response] = {}
        self._robots_failures: dict[str, Exception] = {}
        self.recording = False

    def keep(self, request: Request, response: Response) -> None:
        if self.recording and request.method == "GET" and len(response.body) <= KEPT_BODY:
            # A copy of the headers: the probe's own middlewares change them in place (its
            # decompression takes Content-Encoding off), and the crawl must see them as sent.
            kept = response.replace(headers=response.headers.copy())
            self._answers.setdefault(request.url, kept)

    def fail(self, request: Request, error: Exception) -> None:
        """robots.txt got no answer: the crawl's own attempt (with the same short budget)
        would get none either, and a site that does not answer must not be waited for
        twice. Other failures are the crawl's to retry."""
        if self.recording and request.url.endswith("/robots.txt"):
            self._robots_failures[request.url] = error

    def take(self, request: Request) -> Response | None:
        if request.method != "GET" or not (self._answers or self._robots_failures):
            return None
        failure = self._robots_failures.pop(request.url, None)
        if failure is not None and request.url not in self._answers:
            request.meta["dont_retry"] = True
            raise failure
        return self._answers.pop(request.url, None)

    def clear(self) -> None:
        self._answers.clear()
        self._robots_failures.clear()


ANSWERS = ProbeAnswers()
"""The process's one: a crawl runs one to a process."""


class RecordProbeAnswers:
    """The probe's downloader middleware, next to the downloader: keeps what came."""

    def process_response(self, request: Request, response: Response) -> Response:
        ANSWERS.keep(request, response)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        ANSWERS.fail(request, exception)


class ReplayProbeAnswers:
    """The crawl's downloader middleware, next to the downloader: what the probe already
    asked is answered from it (every middleware's process_response still sees it), and a
    robots.txt that did not answer the probe fails again at once."""

    def process_request(self, request: Request) -> Response | None:
        answer = ANSWERS.take(request)
        if answer is None:
            return None
        return answer.replace(flags=[*answer.flags, "probe"])


def probe_settings(pairs: Sequence[str]) -> Settings:
    """`probe`'s settings with the crawl's -s pairs, keeping its answers for the crawl."""
    from chalco_crawler.probe import build_settings

    settings = build_settings(pairs)
    settings.set(
        "DOWNLOAD_MAXSIZE",
        min(PROBE_MAXSIZE, settings.getint("DOWNLOAD_MAXSIZE") or PROBE_MAXSIZE),
        priority="cmdline",
    )
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["chalco_crawler.first_probe.ReplayProbeAnswers"] = None
    middlewares["chalco_crawler.first_probe.RecordProbeAnswers"] = 970
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
    return settings


def is_empty(home: ArchiveHome) -> bool:
    """Does the home hold no article yet (or no archive at all)?"""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from archive.errors import ArchiveError
    from archive.read.frontier import open_frontier_session
    from archive.store.models import Article

    try:
        session = open_frontier_session(home)
    except ArchiveError:  # e.g. moved by migrate-db: the crawl says so in its own words
        return False
    if session is None:
        return True
    try:
        return session.scalar(select(Article.id).limit(1)) is None
    except SQLAlchemyError:  # a database server's new database: no tables yet
        return True
    finally:
        bind = session.get_bind()
        session.close()
        bind.dispose()  # type: ignore[union-attr]


def misfit_reasons(spider: Any) -> list[str]:
    """Why the profile does not fit, one line per site that it does not (probe_report)."""
    from chalco_crawler.probe_report import profile_misfit

    lines = []
    for name, probe in spider.probes.items():
        reason = profile_misfit(probe, spider.profiles[name])
        if reason is not None:
            lines.append(f"{name}: {reason}")
    return lines
