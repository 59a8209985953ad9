"""Command line: serve the replica site until Ctrl-C (python -m replica --port 8000)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from replica.server import ReplicaServer
from replica.site import build_site


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replica",
        description="Serve a generated replica of www.chalco.com.cn on loopback.",
        epilog="Example: python -m replica --port 8000 --articles 2000 --state later",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port, 0 for any free one (default 8000)"
    )
    parser.add_argument("--articles", type=int, default=60, help="news articles and announcements")
    parser.add_argument("--page-size", type=int, default=5, help="items per list page")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated site")
    parser.add_argument(
        "--state",
        choices=("initial", "later"),
        default="initial",
        help="initial site, or the later state a day on: ReplicaSite.advance() with its "
        "defaults (new articles on top of 公司要闻 and 企业动态, one edited, one removed)",
    )
    args = parser.parse_args(argv)
    try:
        site = build_site(articles=args.articles, page_size=args.page_size, seed=args.seed)
        if args.state == "later":
            site.advance()
    except (ValueError, LookupError) as exc:
        parser.error(str(exc))
    try:
        server = ReplicaServer(site, host=args.host, port=args.port).start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
