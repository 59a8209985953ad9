"""`chalco-archive browse`: datasette on a crawled archive with the shipped metadata, in
process through datasette's client, and once as the real server the command starts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

from archive.read.articles import iter_articles
from archive.read.browse import browse, datasette_command
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome

METADATA = json.loads(
    (resources.files("archive.read") / "datasette-metadata.json").read_text("utf-8")
)
HIDDEN = {"alembic_version", "ledger", "search_index", "search_title"}


@pytest.fixture(scope="module")
def datasette(crawled: Any) -> Iterator[Datasette]:
    ds = Datasette([str(crawled.home / "archive.sqlite3")], metadata=METADATA)
    asyncio.run(ds.invoke_startup())
    yield ds
    for database in ds.databases.values():
        database.close()


@pytest.fixture(scope="module")
def exported(crawled: Any) -> list[dict[str, Any]]:
    engine = open_reader(ArchiveHome.at(crawled.home))
    try:
        with session_factory(engine)() as session:
            return list(iter_articles(session))
    finally:
        engine.dispose()


def get(ds: Datasette, path: str, **params: str) -> Any:
    async def fetch() -> Any:
        response = await ds.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(fetch())


def test_the_database_is_opened_read_only(datasette):
    database = datasette.databases["archive"]
    assert database.is_mutable  # not --immutable: a crawl may be writing
    connection = database.connect()
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("delete from articles")
    finally:
        connection.close()


def test_an_article_is_found_by_url(datasette, exported):
    record = next(r for r in exported if r["attachments"] and len(r["sections"]) > 0)
    rows = get(datasette, "/archive/latest_articles.json", url=record["url"], _shape="array")
    assert len(rows) == 1
    (row,) = rows
    assert row["title"] == record["title"]
    assert row["published"] == record["published"]
    assert row["sections"] == ",".join(record["sections"])
    assert row["snapshot_sha256"] == record["snapshot"]["sha256"]
    assert row["attachment_count"] == len(record["attachments"])
    files = get(
        datasette,
        "/archive/article_files.json",
        article_url=record["url"],
        role="attachment",
        _shape="array",
    )
    assert sorted(f["url"] for f in files) == sorted(a["url"] for a in record["attachments"])


def test_latest_articles_are_listed_newest_first(datasette):
    rows = get(datasette, "/archive/latest_articles.json", _shape="array", _size="50")
    published = [row["published"] for row in rows if row["published"] is not None]
    assert published and published == sorted(published, reverse=True)


@pytest.mark.parametrize("q", ["中铝", "铝股", "年度报告", "。\n", "%", "不存在的词语"])
def test_search_returns_exactly_the_articles_containing_the_text(datasette, exported, q):
    expected = {r["url"] for r in exported if q in (r["title"] or "") or q in (r["body"] or "")}
    assert len(expected) < 100  # under the query's limit, so every match must come back
    rows = get(datasette, "/archive/search.json", q=q, _shape="array")
    assert {row["url"] for row in rows} == expected
    assert len(rows) == len(expected)
    published = [row["published"] or "" for row in rows]
    assert published == sorted(published, reverse=True)


def test_search_finds_something_for_the_company_name(datasette):
    assert get(datasette, "/archive/search.json", q="中铝", _shape="array")


def test_the_metadata_describes_every_column_and_hides_the_internals(datasette, crawled):
    metadata = get(datasette, "/-/metadata.json")
    assert metadata["title"] == "chalco-archive"
    assert metadata["description"] and metadata["license"]
    described = metadata["databases"]["archive"]["tables"]
    database = sqlite3.connect(f"file:{crawled.home / 'archive.sqlite3'}?mode=ro", uri=True)
    try:
        names = [
            name
            for (name,) in database.execute(
                "select name from sqlite_master where type in ('table', 'view')"
                " and name not like 'sqlite%'"
            )
        ]
        for name in names:
            if any(name.startswith(hidden) for hidden in HIDDEN):
                assert described[name]["hidden"] is True, name
                continue
            columns = [row[1] for row in database.execute(f"pragma table_info({name})")]
            assert described[name]["description"], name
            assert set(described[name]["columns"]) == set(columns), name
            assert all(described[name]["columns"].values()), name
    finally:
        database.close()

    listed = get(datasette, "/archive.json")
    hidden = {table["name"] for table in listed["tables"] if table["hidden"]}
    assert {"alembic_version", "ledger"} <= hidden
    assert not hidden & {"articles", "captures", "files"}
    assert {view["name"] for view in listed["views"]} >= {"latest_articles", "capture_log"}


def test_the_descriptions_show_on_the_table_page(datasette):
    async def page() -> str:
        response = await datasette.client.get("/archive/latest_articles")
        return response.text

    html = asyncio.run(page())
    assert "One row per article" in html
    assert METADATA["databases"]["archive"]["tables"]["latest_articles"]["columns"]["docid"] in html


def test_browse_without_an_archive_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(browse, ["--home", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "no archive in" in result.output


def test_browse_refuses_the_sqlite_file_that_migrate_db_copied(tmp_path, monkeypatch):
    """datasette would serve the stale copy without a word."""
    monkeypatch.delenv("CHALCO_ARCHIVE_DB", raising=False)
    (tmp_path / "archive.sqlite3").write_bytes(b"")
    (tmp_path / "archive.sqlite3.moved").write_text("postgresql+psycopg://db/chalco\n")
    result = CliRunner().invoke(browse, ["--home", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "copied to postgresql+psycopg://db/chalco by migrate-db" in result.output


def test_browse_never_opens_the_archive_immutable(tmp_path):
    command = datasette_command(tmp_path / "archive.sqlite3", tmp_path / "m.json", "h", 1)
    assert "-i" not in command and "--immutable" not in command
    assert str(tmp_path / "archive.sqlite3") in command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_browse_serves_the_archive_until_interrupted(crawled):
    port = free_port()
    # Its own process group, so that a Ctrl-C can be sent to it as a terminal sends it:
    # to the command and to the datasette it started.
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from archive.read.browse import browse; browse()",
            "--home",
            str(crawled.home),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        rows = wait_for_json(f"{base}/archive/latest_articles.json?_shape=array&_size=1", process)
        assert len(rows) == 1 and rows[0]["url"]
        assert wait_for_json(f"{base}/-/settings.json", process)["sql_time_limit_ms"] > 1000
        # Bound to the loopback address only: the archive is not served to the network.
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err


def wait_for_json(url: str, process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.2)


def listening_addresses(port: int) -> set[str]:
    """The IPv4 and IPv6 addresses a socket listens on at `port` (Linux /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text("ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            if len(address) == 8:
                found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
            else:
                words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8)]
                found.add(socket.inet_ntop(socket.AF_INET6, b"".join(words)))
    return found


def test_browse_binds_the_loopback_address_by_default():
    (host,) = [param for param in browse.params if param.name == "host"]
    assert host.default == "127.0.0.1"
