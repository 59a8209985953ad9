"""Which signal stopped a crawl: its run is marked `interrupted`, and once everything is
written and closed the process ends by that same signal, as a stopped program should.

Scrapy stops cleanly on the first SIGINT or SIGTERM (and at once on a second one) but does
not say which came. The handlers Scrapy installs are wrapped, once the reactor runs, to note
the first; Scrapy's own handling is unchanged. The first also tells the listeners that work
should end now (`on_stop`: a page's thousands of files, downloads from a slow server), so
that any crawl ends within seconds; a second one ends the process within FORCE_SECONDS even
when the reactor is busy. Ending by the signal (not a plain exit code)
is what lets a shell loop stop on Ctrl-C and systemd count `systemctl stop` as a clean stop;
a shell reports it as 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
FORCE_SECONDS = 1.0
"""How long a second signal waits for the reactor to stop before the process exits anyway."""


class StopSignal:
    """The first stop signal the process received, if any."""

    def __init__(self) -> None:
        self.number: int | None = None
        self.noted_at: float | None = None
        """time.monotonic() of the first stop signal."""
        self._listeners: list[Callable[[], None]] = []
        self._reactor: Any = None
        self._timers: list[threading.Timer] = []

    @property
    def stopping(self) -> bool:
        return self.number is not None

    def stopping_for(self, seconds: float) -> bool:
        """Has the first stop signal come at least `seconds` ago?"""
        return self.noted_at is not None and time.monotonic() - self.noted_at >= seconds

    def on_stop(self, listener: Callable[[], None]) -> None:
        """Call `listener` in the reactor's thread when the first stop signal comes (work
        that should end at once: fetching a page's thousands of files, slow downloads)."""
        self._listeners.append(listener)

    def watch(self, reactor: Any = None) -> None:
        """Note the first SIGINT or SIGTERM, then hand it to the handler already installed
        (Scrapy's, which installs its own for the next one)."""
        self._reactor = reactor
        for number in STOP_SIGNALS:
            previous = signal.getsignal(number)
            if callable(previous):
                signal.signal(number, self._noting(previous))

    def _noting(self, previous: Callable[[int, FrameType | None], Any]) -> Any:
        def handler(number: int, frame: FrameType | None) -> Any:
            first = self.number is None
            if first:
                self.number = number
                self.noted_at = time.monotonic()
                if self._reactor is not None:
                    for listener in self._listeners:
                        self._reactor.callFromThread(listener)
            result = previous(number, frame)
            if first:
                self._watch_second()
            return result

        return handler

    def _watch_second(self) -> None:
        """Scrapy has installed its handler for a second signal (stop the reactor at once);
        wrap it so that the process ends even when the reactor cannot, being busy in a long
        piece of work: FORCE_SECONDS after a second signal, it exits as if killed. The
        archive is made whole from that as from a kill -9 (recovery at the next start)."""
        for number in STOP_SIGNALS:
            forcing = signal.getsignal(number)
            if callable(forcing):
                signal.signal(number, self._forcing(forcing))

    def _forcing(self, previous: Callable[[int, FrameType | None], Any]) -> Any:
        def handler(number: int, frame: FrameType | None) -> Any:
            timer = threading.Timer(FORCE_SECONDS, os._exit, (128 + number,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
            return previous(number, frame)

        return handler

    def disarm(self) -> None:
        """The reactor has stopped: what remains (writing and closing) runs to its end."""
        for timer in self._timers:
            timer.cancel()

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
    reactor.callWhenRunning(lambda: reactor.callLater(0, STOP.watch, reactor))
