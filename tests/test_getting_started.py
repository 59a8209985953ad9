"""Every shell example of docs/getting-started.md runs, in the page's order, against the
replica: the live site's URL is replaced by the replica's, and `crawl` and `probe` are told to
read the replica (with no delay between requests) by a `chalco-archive` earlier on PATH.

The install block is not run here (a fresh virtualenv takes minutes): .ci/run runs it in a
fresh clone, and the last test checks that it does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "getting-started.md"
LIVE_URL = "https://www.chalco.com.cn/"
INSTALL_HEADING = "Install"


def sh_blocks(path: Path) -> list[tuple[str, list[str]]]:
    """The page's ```sh blocks in order, each with the heading it is under."""
    blocks: list[tuple[str, list[str]]] = []
    heading = ""
    lines: list[str] | None = None
    for line in path.read_text("utf-8").splitlines():
        if lines is not None:
            if line.startswith("```"):
                blocks.append((heading, lines))
                lines = None
            else:
                lines.append(line)
        elif line.startswith("```sh"):
            lines = []
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    return blocks


WRAPPER = """#!/bin/sh
# chalco-archive as the page's reader has it, but crawl and probe read the replica, fast.
case "$1" in
  crawl|probe)
    verb="$1"; shift
    exec {real} "$verb" --base-url {base_url} -s DOWNLOAD_DELAY=0 \\
      -s AUTOTHROTTLE_ENABLED=False "$@" ;;
esac
exec {real} "$@"
"""


def test_every_example_of_the_getting_started_page_runs(replica, tmp_path):
    examples = [
        (heading, lines) for heading, lines in sh_blocks(PAGE) if heading != INSTALL_HEADING
    ]
    assert len(examples) >= 6
    commands = [line for _heading, lines in examples for line in lines if line.strip()]
    assert any(line.startswith("chalco-archive crawl") for line in commands)
    real = Path(sys.executable).parent / "chalco-archive"
    assert real.exists(), "the test runs the installed command"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    wrapper = wrappers / "chalco-archive"
    wrapper.write_text(WRAPPER.format(real=real, base_url=replica.base_url))
    wrapper.chmod(0o755)
    home = tmp_path / "user"
    home.mkdir()
    script = ["set -euo pipefail"]
    for line in commands:
        script.append(f"echo {_quote('$ ' + line)} >&2")
        script.append(line.replace(LIVE_URL, replica.base_url))
    env = {
        "PATH": f"{wrappers}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **{k: v for k, v in os.environ.items() if k.startswith("CHALCO_REQUIRE")},
    }
    ran = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    # What the page says came out of it.
    assert (home / "chalco" / "archive.sqlite3").exists()
    assert (home / "chalco-demo" / "archive.sqlite3").exists()
    assert "中铝股份召开一届四次职工代表大会" in (home / "page.html").read_text("utf-8")
    assert (home / "chalco.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"<svg" in (home / "chalco.html").read_bytes()
    assert re.search(r"^ok: ", ran.stdout, re.MULTILINE)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_ci_runs_the_install_block_in_a_fresh_clone_and_shell():
    (install,) = [lines for heading, lines in sh_blocks(PAGE) if heading == INSTALL_HEADING]
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert install[0] in ci  # the virtualenv and the install, as the page has them
    assert "git clone" in ci and "env -i" in ci  # a fresh clone, a fresh shell
    for line in install[1:]:
        assert line in ci
