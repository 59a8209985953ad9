"""The archive's record of an article page from what extraction and normalization read, and
the name of the extraction that read it: one definition for the crawl and for `reextract`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from archive.store.writer.values import ArticleContent, FileLink
from chalco_crawler import items
from chalco_crawler.items import Extraction, NormalizedArticle
from chalco_crawler.profile import SiteProfile
from pipelines import extraction, normalization

# The libraries whose behaviour is part of what a page reads as.
_LIBRARIES = ("lxml", "w3lib", "cssselect")


def named_links(article: NormalizedArticle) -> list[FileLink]:
    """The files a page names, attachments then images, as the attachments stage lists them."""
    return [FileLink(link.url, "attachment", link.name) for link in article.attachments] + [
        FileLink(link.url, "image", link.name) for link in article.images
    ]


MAX_FILES_PER_PAGE = 500
"""The crawl's default (settings.MAX_FILES_PER_PAGE), which `reextract` reads pages with."""


def capped_file_problem(named: int, cap: int) -> str:
    """Why a file a page names was not fetched: it is past the page's cap."""
    return f"not fetched: the page names {named:,} files, more than MAX_FILES_PER_PAGE ({cap})"


def capped_page_problem(named: int, cap: int) -> str:
    return (
        f"names {named:,} files, more than MAX_FILES_PER_PAGE ({cap}): the first {cap} fetched,"
        f" the other {named - cap:,} named but not fetched"
    )


def archive_content(
    *,
    url: str,
    site: str,
    docid: int | None,
    extraction: Extraction,
    article: NormalizedArticle,
    files: list[FileLink],
    extractor_version: str | None,
    max_files: int = MAX_FILES_PER_PAGE,
) -> ArticleContent:
    """The record the archive stores for one read of an article page. A page naming more
    than `max_files` files (the crawl's cap) says so among its problems, in the crawl and
    in `reextract` alike."""
    problems = list(article.problems)
    if 0 < max_files < len(files):
        problems.append(capped_page_problem(len(files), max_files))
    return ArticleContent(
        url=url,
        site=site,
        docid=docid,
        title=article.title,
        source=article.source,
        source_raw=article.source_raw,
        author=article.author,
        author_raw=article.author_raw,
        published=article.published,
        published_raw=article.published_raw,
        info_raw=extraction.info_raw,
        body=article.body,
        body_html=article.body_html,
        meta=dict(extraction.meta),
        encoding=extraction.encoding,
        template=extraction.template,
        problems=problems,
        files=files,
        extractor_version=extractor_version,
    )


def reading_sources() -> list[Path]:
    """The code that turns page bytes into a record: every module of the extraction package
    (a new one counts without being named here), normalization, the result types they fill
    in, and this module, which maps them onto the archive's record."""
    package = Path(extraction.__file__ or "").parent
    return [
        *sorted(package.glob("*.py")),
        Path(normalization.__file__ or ""),
        Path(items.__file__ or ""),
        Path(__file__),
    ]


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """SHA-256 of the code that turns page bytes into a record, and of the versions of the
    libraries it leans on: any change to them may read a page otherwise."""
    digest = hashlib.sha256()
    for source in reading_sources():
        digest.update(source.read_bytes())
    for name in _LIBRARIES:
        digest.update(f"{name}=={metadata.version(name)}\n".encode())
    from lxml import etree  # its libxml2 too: the parser itself

    digest.update(repr(etree.LIBXML_VERSION).encode())
    return digest.hexdigest()


def _rules_digest(profile: SiteProfile) -> str:
    """SHA-256 of what in a site profile changes how its pages read: the extraction rules
    and the time zone of its dates."""
    rules = dataclasses.asdict(profile.extraction)
    canonical = json.dumps(
        {"extraction": rules, "timezone": profile.timezone}, ensure_ascii=False, sort_keys=True
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def extractor_version(profile: SiteProfile) -> str:
    """`<package version>+<code>.<rules>`, e.g. `0.1.0+1a2b3c4d.5e6f7a8b`: the package, a
    digest of the extraction code and its libraries, and one of the profile's rules. Equal
    names mean equal readings of the same bytes (extraction is a pure function of them)."""
    try:
        package = metadata.version("chalco-archive")
    except metadata.PackageNotFoundError:
        package = "0"
    return f"{package}+{_code_digest()[:8]}.{_rules_digest(profile)[:8]}"
