"""The baseline of the pipeline benchmark: a Scrapy spider that only fetches a list of URLs.

Run by benchmarks/crawl_pipeline.py: `scrapy runspider bare_spider.py -a urls=FILE`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings = {"ITEM_PIPELINES": {}, "DOWNLOADER_MIDDLEWARES": {}}

    def __init__(self, urls: str, **kwargs: object):
        super().__init__(**kwargs)
        self.url_file = Path(urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.url_file.read_text("utf-8").split():
            yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def parse(self, response: scrapy.http.Response) -> None:
        self.crawler.stats.inc_value("bare/fetched")

    def failed(self, failure: object) -> None:
        self.crawler.stats.inc_value("bare/failed")
