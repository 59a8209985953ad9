"""The verbs of the local trial: `replica` (the replica site) and `demo` (the replica
crawled into a fresh home)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from archive.child import exec_python_module
from archive.store.home import HOME_ENV


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--articles", default=60, show_default=True, type=int)
@click.option("--page-size", default=5, show_default=True, type=int)
def replica(host: str, port: int, articles: int, page_size: int) -> None:
    """Serve the local replica of the site (for tests and offline trials).

    \b
    Example:
      chalco-archive replica --port 8000 --articles 2000 --page-size 20
    """
    exec_python_module(
        "replica",
        [
            "--host",
            host,
            "--port",
            str(port),
            "--articles",
            str(articles),
            "--page-size",
            str(page_size),
        ],
    )


@click.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to put the demo archive (default: a new temporary directory).",
)
def demo(home: Path | None) -> None:
    """Start the replica on a free port, crawl it into a fresh home, say what to try next.

    \b
    Example:
      chalco-archive demo
    """
    from replica.server import ReplicaServer  # the demo's own server, not needed elsewhere
    from replica.site.build import build_site

    target = home or Path(tempfile.mkdtemp(prefix="chalco-demo-"))
    with ReplicaServer(build_site()) as server:
        click.echo(f"replica serving at {server.base_url}", err=True)
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "chalco_crawler.run",
                "--home",
                str(target),
                "--base-url",
                server.base_url,
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
            ],
            env=dict(os.environ),
        )
    sample = server.base_url + "xwdt/gsyw/202602/t20260204_163644.html"
    click.echo(f"""
The demo archive is in {target} (the dead link above is the replica's deliberate 404).
Try:
  export {HOME_ENV}={target}
  chalco-archive stats
  chalco-archive show {sample}
  chalco-archive search 中铝 --since 2026-01
  chalco-archive export --format csv --output demo.csv
  chalco-archive snapshot {sample} --output page.html
  chalco-archive verify
  chalco-archive report --output demo.html
  chalco-archive browse          (datasette on http://127.0.0.1:8001/)
""")

    # The crawl's own exit code: the replica's deliberate 404 is a dead link, which no longer
    # makes a run partial, so a 1 here means something really failed. A crawl stopped by a
    # signal ended by it: exit as a shell would report it (130, 143).
    sys.exit(128 - code if code < 0 else code)
