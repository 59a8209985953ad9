"""Scrapy settings: polite defaults for the live site, and the archive pipeline."""

BOT_NAME = "chalco_crawler"
SPIDER_MODULES = ["chalco_crawler.spiders"]
NEWSPIDER_MODULE = "chalco_crawler.spiders"

# Politeness: identify ourselves, obey robots.txt, one or two requests at a time with a delay.
USER_AGENT = "chalco-archive/0.1 (+https://github.com/chalco-archive/chalco-archive; news archiver)"
ROBOTSTXT_OBEY = True
# robots.txt is a host's first request: a short budget, so that a site that never answers
# ends the crawl in seconds (chalco_crawler.robots).
ROBOTSTXT_TIMEOUT = 10
ROBOTSTXT_RETRY_TIMES = 1
# A larger robots.txt is read up to this size, as Google does, its last partial line dropped.
ROBOTSTXT_MAXSIZE = 500 * 1024
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50%, so requests do not arrive like clockwork
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Faults: retry server errors and timeouts, give up on a stuck request after 30 s.
RETRY_ENABLED = True
RETRY_TIMES = 3
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# A response's output (a list page's links, an article item) is handled by this many tasks.
# Scrapy 2.19 starts all of them for every response, whatever it yields: at its default of 100
# that was a third of the crawl's CPU on a fast mirror. We yield at most a page of links.
CONCURRENT_ITEMS = 16

# Scrapy's remote-control server would listen on a local port during every crawl: off.
REMOTE_CONTROL_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's, fixed so that every request waiting for a host's robots.txt obeys it.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "chalco_crawler.robots.RobotsTxtMiddleware": 100,
    # Retries that wait: Retry-After on 429/503, exponential backoff otherwise.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "chalco_crawler.politeness.BackoffRetryMiddleware": 550,
    # robots.txt Crawl-delay per host, and the retry delays above.
    "chalco_crawler.politeness.PolitenessMiddleware": 560,
    # Next to the downloader: sees the wire payload and every response before retry/redirect.
    "chalco_crawler.middlewares.WarcCaptureMiddleware": 950,
    # A first crawl's probe already asked for these: its answers, archived by the one above.
    "chalco_crawler.first_probe.ReplayProbeAnswers": 955,
}
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 300.0
CRAWL_DELAY_MAX = 60.0
REDIRECT_MAX_TIMES = 10

# Limits against hostile input: a page, a file, the list pages walked per section. A page
# may carry a 50 MB inline script or pasted image and still be read whole.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
ATTACHMENT_MAXSIZE = 512 * 1024 * 1024
# The files one article page may have fetched; the rest are recorded, named but not fetched.
MAX_FILES_PER_PAGE = 500
# Scrapy's HTTP client, with a body past this size spooled to disk as it comes, never held
# whole in memory (chalco_crawler/download.py).
DOWNLOAD_HANDLERS = {
    "http": "chalco_crawler.download.SpoolingDownloadHandler",
    "https": "chalco_crawler.download.SpoolingDownloadHandler",
}
DOWNLOAD_SPOOL_SIZE = 4 * 1024 * 1024
# After a stop signal (Ctrl-C, SIGTERM), downloads in flight get this long to end and be
# archived; then they are cancelled, so that any crawl ends within seconds.
DOWNLOAD_STOP_GRACE = 2.0
MAX_LIST_PAGES = 2000
# A link answering 404 or 410 is a finished fact (counted as a dead link, exit 0); True makes
# dead links fail the run (partial, exit 1) as failures do.
DEAD_LINKS_FAIL = False
# More than this share of a run's new articles flagged (misread), with at least
# MISREAD_MIN_ARTICLES new: the run ends with exit 7, pointing at probe and reextract.
MISREAD_SHARE = 0.2
MISREAD_MIN_ARTICLES = 5

# A distributed crawl when FLEET_REDIS_URL is set (docs/archivists/fleet.md).
# The garbage collector tuned for a long crawl (chalco_crawler/gc_tuning.py).
EXTENSIONS = {"chalco_crawler.gc_tuning.GcTuning": 0}
GC_TUNING_ENABLED = True

ADDONS = {"chalco_crawler.fleet_worker.FleetAddon": 0}
FLEET_REDIS_URL = None
FLEET_NAME = "default"
FLEET_WORKER = None  # default: HOSTNAME-PID
FLEET_HEARTBEAT_TTL = 15.0
# How long a worker keeps trying an unreachable Redis or database before it stops (exit 5).
FLEET_RETRY_SECONDS = 60.0

ITEM_PIPELINES = {
    "pipelines.extraction.ExtractionPipeline": 100,
    "pipelines.normalization.NormalizationPipeline": 200,
    "pipelines.attachments.AttachmentsPipeline": 300,
    "pipelines.storage.StoragePipeline": 400,
}

# The archive's home directory; `chalco-archive crawl` sets it (default: see archive.store.home).
ARCHIVE_HOME = None
ARCHIVE_COMMIT_EVERY = 200
ARCHIVE_COMMIT_SECONDS = 2.0
# An RFC 3161 time-stamping authority for the ledger's tree head at each run's end; off
# (None) unless set here or in $CHALCO_TSA_URL. TSA_CA_BUNDLE: the PEM CAs its tokens must
# chain to ($CHALCO_TSA_CA_BUNDLE). An authority out of reach leaves a note, never a failure.
TSA_URL = None
TSA_CA_BUNDLE = None
TSA_TIMEOUT = 10.0

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
# Worker processes for extraction; 0 parses in the crawler's own thread. More helps only on
# machines with cores to spare (BENCHMARKS.md).
EXTRACTION_PROCESSES = 0
