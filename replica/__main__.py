"""Command line: serve the replica site until Ctrl-C (python -m replica --port 8000)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_group, build_site
from replica.site.flavours import FLAVOURS
from replica.site.redesign import TEMPLATES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replica",
        description="Serve a generated replica of www.chalco.com.cn (or of a member site of "
        "the 中铝网站群) on loopback.",
        epilog="Examples: python -m replica --port 8000 --articles 2000 --state later; "
        "python -m replica --flavour member; python -m replica --group --port 8000 "
        "(chalco on 8000, the member site on 8001)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port, 0 for any free one (default 8000); with --group the member site "
        "listens on PORT+1",
    )
    parser.add_argument(
        "--articles",
        type=int,
        default=60,
        help="articles of the served flavour (chalco: news and announcements); with "
        "--group, of the chalco site",
    )
    parser.add_argument(
        "--member-articles",
        type=int,
        default=40,
        help="with --group: articles of the member site (default 40)",
    )
    parser.add_argument("--page-size", type=int, default=5, help="items per list page")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated site")
    parser.add_argument(
        "--flavour",
        choices=FLAVOURS,
        default="chalco",
        help="chalco: www.chalco.com.cn (default); member: a member site of the group, "
        "news under /xwzx/",
    )
    parser.add_argument(
        "--template",
        choices=TEMPLATES,
        default="standard",
        help="standard article pages (default), or redesign: the same site after a redesign "
        "of its article template, which the bundled profiles misread (replica/site/redesign.py)",
    )
    parser.add_argument(
        "--group",
        action="store_true",
        help="serve the chalco flavour on PORT and the member flavour on PORT+1, with "
        "shared stories between them; prints both base URLs",
    )
    parser.add_argument(
        "--state",
        choices=("initial", "later"),
        default="initial",
        help="initial site, or the later state a day on: ReplicaSite.advance() with its "
        "defaults (new articles on top of 公司要闻 and 企业动态, one edited, one removed)",
    )
    args = parser.parse_args(argv)
    try:
        if args.group:
            sites: list[ReplicaSite] = list(
                build_group(
                    seed=args.seed,
                    articles=args.articles,
                    member_articles=args.member_articles,
                    page_size=args.page_size,
                )
            )
        else:
            sites = [
                build_site(
                    articles=args.articles,
                    page_size=args.page_size,
                    seed=args.seed,
                    flavour=args.flavour,
                )
            ]
        if args.state == "later":
            for site in sites:
                site.advance()
        for site in sites:
            site.template = args.template
    except (ValueError, LookupError) as exc:
        parser.error(str(exc))
    servers: list[ReplicaServer] = []
    try:
        for offset, site in enumerate(sites):
            port = args.port + offset if args.port else 0
            try:
                servers.append(ReplicaServer(site, host=args.host, port=port).start())
            except OSError as exc:
                print(f"error: cannot listen on {args.host}:{port}: {exc}", file=sys.stderr)
                return 1
        for server in servers:
            print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
