"""Export records as an Apache Parquet file, written batch by batch so memory stays flat.

The columns are the export contract's fields (`archive.read.articles.EXPORT_FIELDS`) with the same
values as in JSON Lines: times stay ISO 8601 text with their zone, as `published` mixes dates
and datetimes at +08:00 and an analyst should see what the JSON Lines export shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from archive.output_file import whole_file
from archive.read.articles import EXPORT_FIELDS

ATTACHMENT = pa.struct(
    [
        pa.field("url", pa.string()),
        pa.field("name", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("media_type", pa.string()),
    ]
)
IMAGE = pa.struct([pa.field("url", pa.string()), pa.field("sha256", pa.string())])
SNAPSHOT = pa.struct([pa.field("sha256", pa.string()), pa.field("fetched_at", pa.string())])

# Fixed, so that every file has the same columns whatever its first rows hold (an export
# whose first batch has no attachment must not infer `attachments` as a list of nulls).
SCHEMA = pa.schema(
    [
        pa.field("url", pa.string(), nullable=False),
        pa.field("site", pa.string(), nullable=False),
        pa.field("sections", pa.list_(pa.string())),
        pa.field("title", pa.string()),
        pa.field("source", pa.string()),
        pa.field("author", pa.string()),
        pa.field("published", pa.string()),
        pa.field("body", pa.string()),
        pa.field("attachments", pa.list_(ATTACHMENT)),
        pa.field("images", pa.list_(IMAGE)),
        pa.field("snapshot", SNAPSHOT),
        pa.field("version", pa.int32()),
        pa.field("status", pa.string()),
        pa.field("first_seen", pa.string()),
        pa.field("last_seen", pa.string()),
    ],
    metadata={"chalco-archive": "export record: field meanings in docs/commands/export.md"},
)

assert tuple(SCHEMA.names) == EXPORT_FIELDS, "the Parquet columns must follow the export contract"

# Chinese text compresses far better with zstd than with the default snappy, and every
# current Parquet reader (pandas, polars, DuckDB, Spark) reads it.
COMPRESSION = "zstd"


def write_parquet(records: Iterable[dict[str, Any]], path: Path, batch_size: int = 1000) -> int:
    """Write export records to `path` as Parquet, one row group per `batch_size` records;
    returns how many were written.

    At most one batch is held in memory. The file appears under its name only once complete:
    an export that fails midway leaves no truncated file behind.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    count = 0
    with whole_file(path) as partial:
        with pq.ParquetWriter(partial, SCHEMA, compression=COMPRESSION) as writer:
            batch: list[dict[str, Any]] = []
            for record in records:
                batch.append(record)
                if len(batch) >= batch_size:
                    writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=SCHEMA))
                    count += len(batch)
                    batch = []
            if batch:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=SCHEMA))
                count += len(batch)
    return count
