"""Signals of this project, sent with `crawler.signals.send_catch_log`."""

# A URL could not be archived as meant: kwargs `url` (str) and `reason` (one line).
fetch_failed = object()

# A response was a challenge page (anti-bot check, captcha, login wall), not the content
# asked for: kwargs `url` (str), `status` (int) and `reason` (one line).
challenge_seen = object()
# A response's payload decodes past the size limit: archived as it came, not inflated, not
# read. kwargs `url` (str) and `reason` (one line).
capture_oversize = object()
# A link answered 404 or 410 (and is no archived article now gone): kwargs `url` (str, the
# link as listed or named) and `reason` (one line, e.g. "HTTP 404").
dead_link = object()
# An attachment or image was fetched (or could not be): kwargs `file` (items.FetchedFile) and
# `seen_at` (aware datetime). Its row is written then, not with its article, so that a crawl
# stopped among a page's thousands of files keeps those it has.
file_fetched = object()
# A page names more files than MAX_FILES_PER_PAGE: kwargs `url` (str, the article), `named`
# and `fetched` (int).
files_capped = object()
