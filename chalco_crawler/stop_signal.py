"""Which signal stopped a crawl: its run is marked `interrupted`, and once everything is
written and closed the process ends by that same signal, as a stopped program should.

Scrapy stops cleanly on the first SIGINT or SIGTERM (and at once on a second one) but does
not say which came. The handlers Scrapy installs are wrapped, once the reactor runs, to note
the first; Scrapy's own handling is unchanged. Ending by the signal (not a plain exit code)
is what lets a shell loop stop on Ctrl-C and systemd count `systemctl stop` as a clean stop;
a shell reports it as 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """The first stop signal the process received, if any."""

    def __init__(self) -> None:
        self.number: int | None = None

    def watch(self) -> None:
        """Note the first SIGINT or SIGTERM, then hand it to the handler already installed
        (Scrapy's, which installs its own for the next one)."""
        for number in STOP_SIGNALS:
            previous = signal.getsignal(number)
            if callable(previous):
                signal.signal(number, self._noting(previous))

    def _noting(self, previous: Callable[[int, FrameType | None], Any]) -> Any:
        def handler(number: int, frame: FrameType | None) -> Any:
            if self.number is None:
                self.number = number
            return previous(number, frame)

        return handler

    @property
    def exit_code(self) -> int:
        """What a shell reports for a process ended by the signal (SIGTERM if none noted:
        a stop asked for without one, as systemd would)."""
        return 128 + (self.number or signal.SIGTERM)

    def end_process(self, exit_code: int) -> None:
        """Exit with `exit_code`; when that is the code of the noted signal, end by the
        signal itself. Everything must be written and closed before."""
        sys.stdout.flush()
        sys.stderr.flush()
        if self.number is not None and exit_code == self.exit_code:
            signal.signal(self.number, signal.SIG_DFL)
            os.kill(os.getpid(), self.number)
        sys.exit(exit_code)


STOP = StopSignal()
"""The process's one: a crawl runs one to a process."""


def watch_after_scrapy(reactor: Any) -> None:
    """Wrap the handlers once the reactor runs: Scrapy installs its own at startup."""
    reactor.callWhenRunning(lambda: reactor.callLater(0, STOP.watch))
