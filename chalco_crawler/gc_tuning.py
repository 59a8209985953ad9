"""A Scrapy extension that tunes Python's garbage collector for a long crawl.

A crawl keeps a large heap that lives as long as the process (modules, Scrapy's machinery,
the archive's compiled statements, lxml) and makes many short-lived containers per
response (Deferreds, tasks, items), nearly all freed by reference counting. With the
default thresholds the collector ran every 700 allocations and walked that whole heap
each time it reached the older generations: about a tenth of a CPU-bound crawl's time
(BENCHMARKS.md). Freezing the heap built at start-up takes it out of every collection;
a higher first threshold makes collections rarer. Cycles are still collected.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

# Allocations between collections of the youngest generation, and collections of each
# generation between collections of the next (Python's defaults: 700, 10, 10).
THRESHOLDS = (50_000, 50, 100)


class GcTuning:
    def __init__(self, thresholds: tuple[int, int, int]):
        self.thresholds = thresholds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GcTuning:
        if not crawler.settings.getbool("GC_TUNING_ENABLED"):
            raise NotConfigured("GC_TUNING_ENABLED is off")
        extension = cls(THRESHOLDS)
        # From now: the archive's migrations and the spider's start-up allocate a lot too.
        gc.set_threshold(*extension.thresholds)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        return extension

    def engine_started(self) -> None:
        gc.collect()  # what start-up left behind goes now, not into the frozen heap
        gc.freeze()
