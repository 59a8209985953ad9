"""A piece of verify's work in a forked child, so that two CPU-bound passes share two cores.

Forked, not spawned: nothing to import again, no interpreter to start (multiprocessing's
pool costs more start-up than a small archive's whole audit). The child sends its messages
and then its result, pickled through a pipe, and leaves with os._exit: it never returns into
the parent's code nor runs its finalizers (its database connections are the parent's).
Where the platform cannot fork, or the child dies (killed, out of memory), `result()` says
so with None and the caller does the work itself: a verdict never depends on a child.
"""

from __future__ import annotations

import os
import pickle
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

CAN_FORK = hasattr(os, "fork")
_LENGTH = struct.Struct("!I")


def _send(pipe: BinaryIO, message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()


def _receive(pipe: BinaryIO) -> tuple[Any, ...] | None:
    head = pipe.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None  # the child ended without a word
    data = pipe.read(_LENGTH.unpack(head)[0])
    return pickle.loads(data)  # noqa: S301 - our own child's, through our own pipe


class Forked:
    """`work(tell)` started now in a child; `tell(message)` sends a message to the parent,
    which `result(on_message)` hands on while it waits for the work's value."""

    def __init__(self, work: Callable[[Callable[[Any], None]], Any]):
        readable, writable = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the work, its value sent, then gone at once
            os.close(readable)
            code = 0
            try:
                with os.fdopen(writable, "wb") as pipe:
                    try:
                        message: tuple[Any, ...] = ("value", work(lambda m: _send(pipe, ("m", m))))
                    except Exception as error:  # the parent raises it, as if its own
                        message = ("error", _picklable(error))
                    _send(pipe, message)
            except BaseException:  # the parent went away (a broken pipe), or a signal
                code = 1
            os._exit(code)
        os.close(writable)
        self.pid, self.pipe = pid, os.fdopen(readable, "rb")

    def result(self, on_message: Callable[[Any], None] = lambda message: None) -> Any | None:
        """The work's value (its error raised here); None if the child died without one."""
        value = None
        try:
            with self.pipe:
                while (message := _receive(self.pipe)) is not None:
                    if message[0] == "m":
                        on_message(message[1])
                    elif message[0] == "error":
                        raise message[1]
                    else:
                        value = message[1]
        finally:
            os.waitpid(self.pid, 0)
        return value


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - made just now
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
