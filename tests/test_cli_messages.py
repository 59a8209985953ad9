"""The lines a newcomer reads first: bare `chalco-archive`, a mistyped verb, an unreachable
site's error, the replica's variants on the command line."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.cli.offline import FLAVOURS, TEMPLATES
from archive.errors import readable_reason
from tests.replica_http import get


def test_bare_command_prints_its_help_and_exits_0():
    result = CliRunner().invoke(main, [], prog_name="chalco-archive")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: chalco-archive")
    assert "Commands:" in result.stdout and "Error" not in result.output


@pytest.mark.parametrize(("typed", "meant"), [("serch", "search"), ("verion", "versions")])
def test_a_mistyped_verb_gets_did_you_mean(typed, meant):
    result = CliRunner().invoke(main, [typed])
    assert result.exit_code == 4
    (line,) = result.stderr.strip().splitlines()
    assert f"No such command '{typed}'. Did you mean '{meant}'" in line


def test_a_verb_like_nothing_gets_no_guess():
    result = CliRunner().invoke(main, ["zzzz"])
    assert result.exit_code == 4 and "Did you mean" not in result.stderr


def test_raw_bytes_in_a_reason_become_a_hex_excerpt():
    reason = readable_reason("Unknown archive format, first line: \x1f\x8b\x08\x00" + "\x00" * 40)
    assert reason == (
        "Unknown archive format, first line: 1f 8b 08 00 00 00 00 00 00 00 00 00 00 00 00 00"
        " … (hex, first 16 of 44 bytes)"
    )
    assert readable_reason("payload digest mismatch") == "payload digest mismatch"
    assert readable_reason("来源：党委宣传部") == "来源：党委宣传部"


@pytest.fixture
def answers_404() -> Iterator[str]:
    """A web server answering 404 to everything (robots.txt included: no rules)."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/"
    server.shutdown()


def test_an_unreachable_site_names_the_url_and_the_home(tmp_path, answers_404):
    home = tmp_path / "home"
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", "crawl", "--home", str(home)]
        + ["--base-url", answers_404],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    (line,) = completed.stderr.strip().splitlines()
    assert f"site unreachable: HTTP 404 ({answers_404})" in line
    assert f"the failed run is recorded in {home}" in line


def test_the_replica_verb_offers_the_replicas_own_choices():
    from replica.site.flavours import FLAVOURS as replica_flavours
    from replica.site.redesign import TEMPLATES as replica_templates

    assert (FLAVOURS, TEMPLATES) == (replica_flavours, replica_templates)


def served(*options: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "replica", "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split()[-1]


@pytest.mark.parametrize(
    ("options", "path", "expected"),
    [
        (("--template", "redesign"), "xwdt/gsyw/202602/t20260204_163644.html", "稿源"),
        (("--flavour", "member"), "xwzx/", "新闻中心"),
        (("--faults",), "robots.txt", "Disallow"),
    ],
)
def test_the_replica_variants_are_one_command(options, path, expected):
    process, base_url = served(*options)
    try:
        assert base_url.startswith("http://127.0.0.1:")
        status, _headers, body = get(base_url.rstrip("/") + "/" + path)
        assert status == 200 and expected in body.decode("utf-8", "replace")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_replica_help_lists_its_variants():
    shown = CliRunner().invoke(main, ["replica", "--help"]).stdout
    for option in ("--template", "--flavour", "--faults", "--state", "--group"):
        assert option in shown
