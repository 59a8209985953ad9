"""A home that stops taking writes mid-crawl (disk full, file too large): the crawl ends at
once with a one-line reason and exit code 5, and the archive left behind passes verify."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

from click.testing import CliRunner

from archive.cli import main
from tests.conftest import FAST


def test_a_full_disk_ends_the_crawl_cleanly_and_the_archive_verifies(tmp_path, replica):
    home = tmp_path / "home"
    limit = 400_000  # bytes any one file may reach: the archive outgrows it mid-crawl

    def small_disk() -> None:
        # Writes past the limit fail with EFBIG instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "chalco_crawler.run",
            "--home",
            str(home),
            "--base-url",
            replica.base_url,
            *FAST,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
    )
    assert completed.returncode == 5, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write to the archive in")
    result = CliRunner().invoke(main, ["verify", "--home", str(home)])
    assert result.exit_code == 0, result.stdout
