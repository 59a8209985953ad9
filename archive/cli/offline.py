"""The verbs of the local trial: `replica` (the replica site) and `demo` (the replica
crawled into a fresh home)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from archive.child import exec_python_module
from archive.store.home import HOME_ENV

# The replica's own choices (replica.site.flavours.FLAVOURS, replica.site.redesign.TEMPLATES),
# named here so `--help` imports no replica; tests/test_replica_cli.py keeps them equal.
FLAVOURS = ("chalco", "member")
TEMPLATES = ("standard", "redesign")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, help="0: any free port.")
@click.option("--articles", default=60, show_default=True, type=int)
@click.option("--page-size", default=5, show_default=True, type=int)
@click.option("--seed", default=2026, show_default=True, type=int, help="Of the generated site.")
@click.option(
    "--flavour",
    type=click.Choice(FLAVOURS),
    default="chalco",
    show_default=True,
    help="chalco: www.chalco.com.cn; member: a member site of the group (news under /xwzx/).",
)
@click.option(
    "--template",
    type=click.Choice(TEMPLATES),
    default="standard",
    show_default=True,
    help="redesign: the same site after a redesign of its article pages, which the bundled"
    " profiles misread (for probe and reextract).",
)
@click.option(
    "--state",
    type=click.Choice(("initial", "later")),
    default="initial",
    show_default=True,
    help="later: the site a day on (new articles, one edited, one removed).",
)
@click.option(
    "--group",
    is_flag=True,
    help="The chalco flavour on PORT and the member site on PORT+1, sharing stories.",
)
@click.option(
    "--faults",
    is_flag=True,
    help="Serve the hostile site instead: every fault the crawler survives, one path each.",
)
def replica(
    host: str,
    port: int,
    articles: int,
    page_size: int,
    seed: int,
    flavour: str,
    template: str,
    state: str,
    group: bool,
    faults: bool,
) -> None:
    """Serve the local replica of the site (for tests and offline trials).

    It prints its base URL, then serves on HOST until Ctrl-C.

    \b
    Example:
      chalco-archive replica --port 8000 --articles 2000 --page-size 20
      chalco-archive replica --port 8000 --template redesign
      chalco-archive replica --port 8001 --flavour member
      chalco-archive replica --port 8002 --faults
    """
    if faults:
        exec_python_module("replica.faults", ["--host", host, "--port", str(port)])
    command = ["--host", host, "--port", str(port), "--articles", str(articles)]
    command += ["--page-size", str(page_size), "--seed", str(seed), "--flavour", flavour]
    command += ["--template", template, "--state", state]
    if group:
        command.append("--group")
    exec_python_module("replica", command)


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
        # stdout, flushed: in the order a person reads it, even with 2>&1 into a pager.
        click.echo(f"replica serving at {server.base_url} while the demo crawls it")
        sys.stdout.flush()
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
    program = own_command()
    click.echo(f"""replica at {server.base_url} stopped; the archive keeps what it served

The demo archive is in {target} (the dead link above is the replica's deliberate 404).
Try, in this shell or a new one:
  export {HOME_ENV}={shlex.quote(str(target))}
  {program} stats
  {program} show {sample}
  {program} search 中铝 --since 2026-01
  {program} export --format csv --output demo.csv
  {program} snapshot {sample} --output page.html
  {program} verify
  {program} report --output demo.html
  {program} browse          (datasette on http://127.0.0.1:8001/)
""")

    # The crawl's own exit code: the replica's deliberate 404 is a dead link, which no longer
    # makes a run partial, so a 1 here means something really failed. A crawl stopped by a
    # signal ended by it: exit as a shell would report it (130, 143).
    sys.exit(128 - code if code < 0 else code)


def own_command() -> str:
    """How a person runs this chalco-archive again from any shell: the plain name when PATH
    finds this very program (an activated virtualenv, pipx, uv tool), else its full path."""
    installed = Path(sys.executable).parent / "chalco-archive"
    found = shutil.which("chalco-archive")
    if not installed.exists():
        return f"{shlex.quote(sys.executable)} -m archive.cli"
    if found and Path(found).resolve() == installed.resolve():
        return "chalco-archive"
    return shlex.quote(str(installed.absolute()))
