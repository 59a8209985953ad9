"""Running another program for a verb (the crawler, datasette, the replica) so that signals
reach it: SIGTERM from systemd or a kill stops the child cleanly, never orphans it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence


def exec_python_module(module: str, args: Sequence[str]) -> None:
    """Become `python -m module args`: the same process id, so signals, exit codes and
    systemd's view of the service are the crawler's own."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", module, *args])


def run_forwarding_signals(command: Sequence[str]) -> int:
    """Run `command`, passing SIGTERM and SIGINT on to it; its exit code."""
    process = subprocess.Popen(list(command))

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
