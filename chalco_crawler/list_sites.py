"""`chalco-archive sites`: the site profiles a crawl can name, as JSON Lines for the CLI."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from archive.store.home import ArchiveHome
from chalco_crawler.profile import PROFILE_DIR_NAME, bundled_profile_names, load_profile


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chalco-archive sites")
    parser.add_argument("--home")
    args = parser.parse_args(argv)
    user_dir = ArchiveHome.at(args.home).root / PROFILE_DIR_NAME
    dirs = [str(user_dir)]
    for name in bundled_profile_names(dirs):
        profile = load_profile(name, dirs)
        own = (user_dir / f"{name}.toml").is_file()
        record = {
            "name": profile.name,
            "title": profile.title,
            "base_url": profile.base_url,
            "news_roots": list(profile.news_roots),
            "extra_sections": list(profile.extra_sections),
            "profile": str(user_dir / f"{name}.toml") if own else "bundled",
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
