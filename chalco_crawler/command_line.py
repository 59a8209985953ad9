"""What the crawler's commands (crawl, probe, repair) parse alike."""

from __future__ import annotations

import argparse


def add_setting_option(parser: argparse.ArgumentParser, example: str) -> None:
    """`-s KEY=VALUE`, as often as wanted: a Scrapy setting for this run (build_settings
    reads them into the run's settings, over the project's)."""
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a Scrapy setting, e.g. -s {example}",
    )
