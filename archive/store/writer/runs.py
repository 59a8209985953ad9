"""The writer's runs: a crawl run's row, opened with the run's WARC files and closed with
its status, exit code and summary, and the ledger's tree head as the run leaves it."""

from __future__ import annotations

import json
import os
from typing import Any

from archive.store import ledger_tree
from archive.store.home import ArchiveHome
from archive.store.models import utc_now
from archive.store.recovery import run_file_prefix, safe_name
from archive.store.tables import RUNS
from archive.store.warcstore import WarcStore
from archive.store.writer.captures import CaptureWriter
from archive.store.writer.durability import WriterOptions, guarded
from archive.store.writer.fleet import FleetWriter
from archive.store.writer.heads import HeadWriter
from archive.store.writer.listings import ListingWriter
from archive.store.writer.seals import SealWriter


class RunWriter(CaptureWriter, ListingWriter, FleetWriter, HeadWriter, SealWriter):
    """Starts and finishes the run whose captures the writer records."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        super().__init__(home, options)
        self._max_warc_size = options.max_warc_size

    def start_run(self, site: str, base_url: str, mode: str) -> int:
        started_at = utc_now()
        self.run_id = self._add(
            RUNS,
            site=site,
            base_url=base_url,
            mode=mode,
            started_at=started_at,
            status="running",
            worker=self.worker,
            fleet_run_id=self.fleet_run_id,
        )
        self.commit()
        # Workers share the WARC directory: each file names its run and its worker.
        worker = safe_name(self.worker or str(os.getpid()))
        prefix = f"{run_file_prefix(self.run_id, started_at)}{worker}"
        kwargs = {"max_file_size": self._max_warc_size} if self._max_warc_size else {}
        self.warc = WarcStore(self.home.warc_dir, prefix, **kwargs)
        return self.run_id

    @guarded
    def close_run_files(self) -> None:
        """Close the run's WARC files (each gets its digest and ledger entry), so that the
        run's tree head covers them; the writer takes no more exchanges after this."""
        if self.warc is not None:
            self._close_warc_files()
            self.warc = None

    @guarded
    def finish_run(self, status: str, exit_code: int, summary: dict[str, Any]) -> None:
        assert self.run_id is not None
        self.close_run_files()
        self._move_redirected_listings()
        self._set(
            RUNS,
            self.run_id,
            finished_at=utc_now(),
            status=status,
            exit_code=exit_code,
            summary_json=json.dumps(summary, ensure_ascii=False, sort_keys=True),
        )
        self.commit()
        # Unless the crawl's session recorded (and timestamped) one already. A tree whose
        # nodes were damaged gets no head (verify says why); the run is finished all the same.
        try:
            self.record_tree_head()
        except ledger_tree.MissingNodes:
            pass
