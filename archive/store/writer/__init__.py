"""The archive's write side: one writer per home records captures, articles, versions, files
and listings, each part in its own module (durability.py says in which order things are made
durable)."""

from __future__ import annotations

from collections.abc import Callable

from archive.errors import StorageFailed
from archive.store.home import ArchiveHome
from archive.store.recovery import recover
from archive.store.writer.articles import ArticleWriter
from archive.store.writer.durability import WriterOptions
from archive.store.writer.runs import RunWriter


class ArchiveWriter(RunWriter, ArticleWriter):
    """Records one crawl run into a home."""

    def __init__(
        self,
        home: ArchiveHome,
        *,
        commit_every: int = 200,
        commit_seconds: float = 2.0,
        max_warc_size: int | None = None,
        worker: str | None = None,
        worker_gone: Callable[[str], bool] | None = None,
    ):
        """`worker` names this writer as one worker of a distributed crawl: it shares the
        home with the other workers, and recovers only the runs of workers for which
        `worker_gone` says they are no longer alive."""
        super().__init__(home, WriterOptions(commit_every, commit_seconds, max_warc_size, worker))
        # A crawl killed earlier may have left a run open and a WARC file cut mid-record.
        if worker is None:
            self.recovery = recover(self.connection, home)
        else:
            self.recovery = recover(
                self.connection, home, worker_gone=worker_gone or (lambda name: False)
            )
        for name in self.recovery.closed_files:
            self._ledger.add_warc_file(name)
        self.commit()

    def close(self) -> None:
        try:
            if self.failed is None:
                if self.warc is not None:
                    with self._storage_guard():
                        self._close_warc_files()
                self.commit()
        except StorageFailed:
            pass  # reported by whoever hit it first; the next run's recovery closes the files
        finally:
            self._transaction.rollback()
            self.connection.close()
            self.engine.dispose()
            self._lock.release()
