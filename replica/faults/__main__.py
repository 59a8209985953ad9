"""`python -m replica.faults`: serve the fault replica until interrupted."""

from __future__ import annotations

import argparse
import time

from replica.faults import FaultServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the fault replica until interrupted.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    with FaultServer(args.host, args.port) as server:
        print(f"fault replica at {server.base_url}", flush=True)
        for case in server.cases.values():
            print(f"  {case.name:24} {case.path}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
