"""An HTTP server run in a daemon thread, as a context manager: the replica and the fault
server both serve this way."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class BackgroundServer:
    """Subclasses say how to build their server (`make_server`); this class runs it."""

    thread_name = "replica-http"

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def make_server(self) -> ThreadingHTTPServer:
        raise NotImplementedError

    def before_stop(self) -> None:
        """Called before the server shuts down (e.g. to end streaming handlers)."""

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        httpd = self.make_server()
        self.port = httpd.server_address[1]
        self._httpd = httpd
        # A short poll interval lets stop() return in milliseconds, not half a second.
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.before_stop()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
