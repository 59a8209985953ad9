"""Parquet export: every export record of the crawled replica read back unchanged, nested
fields included; a fixed schema; no truncated file after a failure."""

from __future__ import annotations

import math

import pyarrow.parquet as pq
import pytest

from archive.read.articles import EXPORT_FIELDS, iter_articles
from archive.read.parquet import SCHEMA, write_parquet
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome


@pytest.fixture
def session(crawled):
    engine = open_reader(ArchiveHome.at(crawled.home))
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def record(number: int, *, with_files: bool) -> dict:
    return {
        "url": f"https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_{number}.html",
        "site": "chalco",
        "sections": ["xwdt/gsyw"],
        "title": f"中铝股份召开会议 {number}",
        "source": None,
        "author": None,
        "published": "2026-02-04T09:30:00+08:00",
        "body": "第一段\n第二段",
        "attachments": (
            [
                {
                    "url": "https://www.chalco.com.cn/P0.pdf",
                    "name": "年度报告.pdf",
                    "sha256": "a" * 64,
                    "size": 3_000_000_000,
                    "media_type": "application/pdf",
                }
            ]
            if with_files
            else []
        ),
        "images": [{"url": "https://www.chalco.com.cn/W0.jpg", "sha256": None}]
        if with_files
        else [],
        "snapshot": {"sha256": "b" * 64, "fetched_at": "2026-02-04T02:00:00.000000+00:00"},
        "version": 1,
        "status": "live",
        "first_seen": "2026-02-04T02:00:00.000000+00:00",
        "last_seen": "2026-02-04T02:00:00.000000+00:00",
    }


def test_parquet_holds_every_export_record_unchanged(session, tmp_path):
    target = tmp_path / "chalco.parquet"
    count = write_parquet(iter_articles(session), target, batch_size=7)

    expected = list(iter_articles(session))
    assert count == len(expected) > 7
    # The comparison below covers nested fields only if the archive has some.
    assert any(r["attachments"] for r in expected) and any(r["images"] for r in expected)
    assert any(r["sections"] for r in expected)

    parquet = pq.ParquetFile(target)
    assert parquet.schema_arrow == SCHEMA
    assert tuple(parquet.schema_arrow.names) == EXPORT_FIELDS
    assert parquet.num_row_groups == math.ceil(count / 7)  # written batch by batch
    rows = parquet.read().to_pylist()
    for row, wanted in zip(rows, expected, strict=True):
        assert row == wanted, wanted["url"]


def test_the_schema_is_fixed_whatever_the_first_batch_holds(tmp_path):
    # The first batch has no attachment or image: its list types must not be inferred as null.
    records = [record(1, with_files=False), record(2, with_files=True)]
    target = tmp_path / "two.parquet"
    assert write_parquet(iter(records), target, batch_size=1) == 2
    table = pq.read_table(target)
    assert table.schema == SCHEMA
    assert table.to_pylist() == records


def test_no_records_still_make_a_file_with_the_columns(tmp_path):
    target = tmp_path / "empty.parquet"
    assert write_parquet([], target) == 0
    table = pq.read_table(target)
    assert table.num_rows == 0
    assert table.schema == SCHEMA


def test_a_failed_export_leaves_no_file(tmp_path):
    def failing():
        yield record(1, with_files=True)
        yield record(2, with_files=False)
        raise RuntimeError("database went away")

    target = tmp_path / "broken.parquet"
    with pytest.raises(RuntimeError, match="went away"):
        write_parquet(failing(), target, batch_size=1)
    assert list(tmp_path.iterdir()) == []


def test_batch_size_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        write_parquet([], tmp_path / "x.parquet", batch_size=0)
