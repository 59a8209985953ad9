"""An article's versions: their history with the captures behind each, the diff of two, and
the other articles that carry the same story."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from archive.errors import ArticleNotFound
from archive.read.articles import (
    NamedFile,
    VersionRow,
    article_versions,
    files_by_version,
    latest_versions_sql,
)
from archive.read.sql import Reader, in_list, reader_for
from archive.store.times import iso_time

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


def version_history(database: Reader | Session | Connection, url: str) -> list[dict[str, Any]]:
    """Every version of an article with the captures behind it, oldest first."""
    reader = reader_for(database)
    _article, versions = article_versions(reader, url)
    listed, params = in_list("version", [version.id for version in versions])
    captures: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in reader.rows(
        "SELECT vc.version_id, c.id, c.fetched_at, c.status, c.record_type"
        " FROM version_captures AS vc JOIN captures AS c ON c.id = vc.capture_id"
        f" WHERE vc.version_id IN {listed} ORDER BY vc.version_id, c.fetched_at, c.id",
        **params,
    ):
        captures[row["version_id"]].append(
            {
                "id": row["id"],
                "fetched_at": iso_time(row["fetched_at"]),
                "status": row["status"],
                "record_type": row["record_type"],
            }
        )
    return [
        {
            "url": url,
            "version": version.number,
            "cause": version.cause,
            "extractor_version": version.extractor_version,
            "content_sha256": version.content_sha256,
            "title": version.title,
            "first_seen": version.first_seen_at.isoformat(),
            "last_seen": version.last_seen_at.isoformat(),
            "captures": captures.get(version.id, []),
        }
        for version in versions
    ]


def version_text(version: VersionRow, files: list[NamedFile]) -> list[str]:
    """A version as lines of text, for diffs: the fields a reader sees, the body, then the
    files it names with their digests (an attachment replaced at its URL shows here)."""
    head = [
        f"标题：{version.title or ''}",
        f"来源：{version.source or ''}",
        f"时间：{version.published or ''}",
        f"作者：{version.author or ''}",
        "",
    ]
    label = {"attachment": "附件", "image": "图片"}
    named = [
        f"{label.get(f.role, f.role)}：{f.name or ''} {f.url} sha256={f.sha256 or '(not fetched)'}"
        for f in files
    ]
    return head + (version.body or "").split("\n") + ([""] + named if named else [])


def _cause(version: VersionRow) -> str:
    """Why a version exists, and which extraction read it when known: `reextract, extractor
    0.1.0+1a2b3c4d.5e6f7a8b`."""
    if version.extractor_version is None:
        return version.cause
    return f"{version.cause}, extractor {version.extractor_version}"


def diff_versions(
    database: Reader | Session | Connection, url: str, old: int | None, new: int | None
) -> list[str]:
    """A unified diff of two versions' text (default: the last two)."""
    reader = reader_for(database)
    _article, versions = article_versions(reader, url)
    numbers = [v.number for v in versions]
    new = new if new is not None else numbers[-1]
    old = old if old is not None else max(1, new - 1)
    by_number = {v.number: v for v in versions}
    for number in (old, new):
        if number not in by_number:
            raise ArticleNotFound(f"{url} has versions 1 to {numbers[-1]}, not {number}")
    files = files_by_version(reader, [by_number[old].id, by_number[new].id])
    return list(
        difflib.unified_diff(
            version_text(by_number[old], files.get(by_number[old].id, [])),
            version_text(by_number[new], files.get(by_number[new].id, [])),
            fromfile=f"{url} version {old} ({_cause(by_number[old])})",
            tofile=f"{url} version {new} ({_cause(by_number[new])})",
            lineterm="",
        )
    )


STORY_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def story_text(title: str | None, body: str | None) -> str:
    """Title and body with whitespace and punctuation removed: what two republications of one
    story share even when their templates differ."""
    return STORY_NOISE.sub("", f"{title or ''}{body or ''}")


def same_story(database: Reader | Session | Connection, url: str) -> list[dict[str, Any]]:
    """Other articles (another site of the group, or another URL of the same site) that carry
    the same story: the same docid, or the same title and body once whitespace and
    punctuation are set aside."""
    reader = reader_for(database)
    article, versions = article_versions(reader, url)
    latest = versions[-1]
    params: dict[str, Any] = {"article_id": article.id}
    # A missing title is matched as missing (IS NULL), as the ORM's `== None` did.
    same = "v.title IS NULL"
    if latest.title is not None:
        same, params["title"] = "v.title = :title", latest.title
    if article.docid is not None:
        same, params["docid"] = f"{same} OR a.docid = :docid", article.docid
    candidates = reader.rows(
        latest_versions_sql(f"a.id != :article_id AND ({same})") + " ORDER BY a.id", **params
    )
    mine = story_text(latest.title, latest.body)
    return [
        {
            "url": other["a_url"],
            "site": other["a_site"],
            "docid": other["a_docid"],
            "same_docid": other["a_docid"] is not None and other["a_docid"] == article.docid,
        }
        for other in candidates
        if story_text(other["v_title"], other["v_body"]) == mine
        or (other["a_docid"] is not None and other["a_docid"] == article.docid)
    ]
