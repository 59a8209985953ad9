"""Articles as the export contract names their fields: every latest version streamed
(`iter_articles`), or one article with its versions (`get_article`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archive.errors import ArticleNotFound
from archive.read.sql import Reader, Row, in_list, reader_for
from archive.store.times import iso_time, read_time
from archive.store.version_texts import whole_text_sql

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

EXPORT_BATCH = 500

# The JSON Lines export contract, in order; CSV uses the same columns.
EXPORT_FIELDS = (
    "url",
    "site",
    "sections",
    "title",
    "source",
    "author",
    "published",
    "body",
    "attachments",
    "images",
    "snapshot",
    "version",
    "status",
    "first_seen",
    "last_seen",
)

LATEST_NUMBERS = (
    "(SELECT article_id, max(number) AS number FROM article_versions GROUP BY article_id)"
)
"""Each article's newest version number, to join as `latest`."""

ARTICLE_COLUMNS = (
    "a.id AS a_id, a.url AS a_url, a.site AS a_site, a.docid AS a_docid,"
    " a.status AS a_status, a.first_seen_at AS a_first_seen_at,"
    " a.last_seen_at AS a_last_seen_at"
)
VERSION_COLUMNS = (  # the body wherever it is kept (version_texts.py)
    "v.id AS v_id, v.article_id AS v_article_id, v.number AS v_number, v.title AS v_title,"
    " v.source AS v_source, v.source_raw AS v_source_raw, v.author AS v_author,"
    " v.published AS v_published, v.published_raw AS v_published_raw,"
    f" {whole_text_sql('body', 'v')} AS v_body,"
    " v.problems_json AS v_problems_json, v.content_sha256 AS v_content_sha256,"
    " v.cause AS v_cause, v.extractor_version AS v_extractor_version,"
    " v.first_seen_at AS v_first_seen_at, v.last_seen_at AS v_last_seen_at"
)


@dataclass(frozen=True)
class ArticleRow:
    """An article (articles) as the read verbs use it."""

    id: int
    url: str
    site: str
    docid: int | None
    status: str
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, row: Row) -> ArticleRow:
        """From a row of ARTICLE_COLUMNS."""
        return cls(
            id=row["a_id"],
            url=row["a_url"],
            site=row["a_site"],
            docid=row["a_docid"],
            status=row["a_status"],
            first_seen_at=read_time(row["a_first_seen_at"]),
            last_seen_at=read_time(row["a_last_seen_at"]),
        )


@dataclass(frozen=True)
class VersionRow:
    """One version of an article (article_versions) as the read verbs use it."""

    id: int
    article_id: int
    number: int
    title: str | None
    source: str | None
    source_raw: str | None
    author: str | None
    published: str | None
    published_raw: str | None
    body: str | None
    problems_json: str
    content_sha256: str
    cause: str
    extractor_version: str | None
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, row: Row) -> VersionRow:
        """From a row of VERSION_COLUMNS."""
        values = {name: row["v_" + name] for name in cls.__dataclass_fields__}
        values["first_seen_at"] = read_time(values["first_seen_at"])
        values["last_seen_at"] = read_time(values["last_seen_at"])
        return cls(**values)


@dataclass(frozen=True)
class NamedFile:
    """An attachment or image as a version names it, with the bytes it names: those of the
    version's own capture of it when it has one, else the file's."""

    role: str
    name: str | None
    url: str
    sha256: str | None
    size: int | None
    media_type: str | None


def sections_by_url(reader: Reader, urls: Sequence[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = defaultdict(list)
    listed, params = in_list("url", urls)
    rows = reader.rows(
        "SELECT article_url, section FROM listings"
        f" WHERE article_url IN {listed} ORDER BY article_url, section",
        **params,
    )
    for row in rows:
        sections[row["article_url"]].append(row["section"])
    return sections


def files_by_version(reader: Reader, version_ids: Sequence[int]) -> dict[int, list[NamedFile]]:
    """The files each version names, in its order."""
    files: dict[int, list[NamedFile]] = defaultdict(list)
    listed, params = in_list("version", version_ids)
    rows = reader.rows(
        "SELECT vf.version_id, vf.role, vf.name, f.url,"
        " CASE WHEN c.id IS NULL THEN f.sha256 ELSE c.content_sha256 END AS sha256,"
        " CASE WHEN c.id IS NULL THEN f.size ELSE c.content_size END AS size,"
        " CASE WHEN c.id IS NULL THEN f.media_type ELSE c.media_type END AS media_type"
        " FROM version_files AS vf JOIN files AS f ON f.id = vf.file_id"
        " LEFT JOIN captures AS c ON c.id = vf.capture_id"
        f" WHERE vf.version_id IN {listed} ORDER BY vf.version_id, vf.position",
        **params,
    )
    for row in rows:
        version_id = row.pop("version_id")
        files[version_id].append(NamedFile(**row))
    return files


def _snapshots_by_version(reader: Reader, version_ids: Sequence[int]) -> dict[int, Row]:
    """The newest capture behind each version: its content_sha256 and fetched_at."""
    listed, params = in_list("version", version_ids)
    rows = reader.rows(
        "SELECT newest.version_id, c.content_sha256, c.fetched_at FROM"
        " (SELECT version_id, max(capture_id) AS capture_id FROM version_captures"
        f" WHERE version_id IN {listed} GROUP BY version_id) AS newest"
        " JOIN captures AS c ON c.id = newest.capture_id",
        **params,
    )
    return {row["version_id"]: row for row in rows}


def article_record(
    article: ArticleRow,
    version: VersionRow,
    sections: list[str],
    files: list[NamedFile],
    snapshot: Row | None,
) -> dict[str, Any]:
    """One article as the export contract names its fields."""
    return {
        "url": article.url,
        "site": article.site,
        "sections": sections,
        "title": version.title,
        "source": version.source,
        "author": version.author,
        "published": version.published,
        "body": version.body,
        "attachments": [
            {
                "url": f.url,
                "name": f.name,
                "sha256": f.sha256,
                "size": f.size,
                "media_type": f.media_type,
            }
            for f in files
            if f.role == "attachment"
        ],
        "images": [{"url": f.url, "sha256": f.sha256} for f in files if f.role == "image"],
        "snapshot": {
            "sha256": snapshot["content_sha256"] if snapshot else None,
            "fetched_at": iso_time(snapshot["fetched_at"]) if snapshot else None,
        },
        "version": version.number,
        "status": article.status,
        "first_seen": article.first_seen_at.isoformat(),
        "last_seen": article.last_seen_at.isoformat(),
    }


def latest_versions_sql(where: str = "") -> str:
    """Articles joined to their latest versions (ARTICLE_COLUMNS, VERSION_COLUMNS)."""
    return (
        f"SELECT {ARTICLE_COLUMNS}, {VERSION_COLUMNS} FROM articles AS a"
        f" JOIN {LATEST_NUMBERS} AS latest ON latest.article_id = a.id"
        " JOIN article_versions AS v ON v.article_id = a.id AND v.number = latest.number"
        + (f" WHERE {where}" if where else "")
    )


def iter_articles(
    database: Reader | Session | Connection,
    *,
    section: str | None = None,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every article's latest version as an export record, streamed in batches."""
    reader = reader_for(database)
    where = ["a.id > :last_id"]
    params: dict[str, Any] = {"batch": EXPORT_BATCH}
    if section:
        where.append("a.url IN (SELECT article_url FROM listings WHERE section = :section)")
        params["section"] = section.strip("/")
    if site:
        where.append("a.site = :site")
        params["site"] = site
    if source:
        where.append("v.source = :source")
        params["source"] = source
    # The same date filters as search: a year, a month or a day, inclusive, on `published`.
    if since:
        where.append("v.published >= :since")
        params["since"] = since
    if until:
        where.append("substr(v.published, 1, :until_length) <= :until")
        params.update(until=until, until_length=len(until))
    query = latest_versions_sql(" AND ".join(where)) + " ORDER BY a.id LIMIT :batch"
    last_id = 0
    while True:
        batch = [
            (ArticleRow.of(row), VersionRow.of(row))
            for row in reader.rows(query, last_id=last_id, **params)
        ]
        if not batch:
            return
        version_ids = [version.id for _, version in batch]
        sections = sections_by_url(reader, [article.url for article, _ in batch])
        files = files_by_version(reader, version_ids)
        snapshots = _snapshots_by_version(reader, version_ids)
        for article, version in batch:
            yield article_record(
                article,
                version,
                sections.get(article.url, []),
                files.get(version.id, []),
                snapshots.get(version.id),
            )
        last_id = batch[-1][0].id


@dataclass
class ArticleView:
    record: dict[str, Any]
    versions: list[VersionRow]
    problems: list[str]
    source_raw: str | None
    published_raw: str | None
    article: ArticleRow


def article_versions(reader: Reader, url: str) -> tuple[ArticleRow, list[VersionRow]]:
    """An article and its versions, oldest first."""
    row = reader.one(f"SELECT {ARTICLE_COLUMNS} FROM articles AS a WHERE a.url = :url", url=url)
    if row is None:
        raise ArticleNotFound(f"no archived article at {url}")
    article = ArticleRow.of(row)
    versions = reader.rows(
        f"SELECT {VERSION_COLUMNS} FROM article_versions AS v"
        " WHERE v.article_id = :article_id ORDER BY v.number",
        article_id=article.id,
    )
    return article, [VersionRow.of(version) for version in versions]


def get_article(
    database: Reader | Session | Connection, url: str, version: int | None = None
) -> ArticleView:
    """An article with its latest version, or with version number `version`."""
    reader = reader_for(database)
    article, versions = article_versions(reader, url)
    if version is None:
        shown = versions[-1]
    else:
        matching = [v for v in versions if v.number == version]
        if not matching:
            raise ArticleNotFound(f"{url} has versions 1 to {len(versions)}, not {version}")
        shown = matching[0]
    record = article_record(
        article,
        shown,
        sections_by_url(reader, [url]).get(url, []),
        files_by_version(reader, [shown.id]).get(shown.id, []),
        _snapshots_by_version(reader, [shown.id]).get(shown.id),
    )
    return ArticleView(
        record=record,
        versions=versions,
        problems=json.loads(shown.problems_json),
        source_raw=shown.source_raw,
        published_raw=shown.published_raw,
        article=article,
    )
