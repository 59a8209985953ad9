"""Signals of this project, sent with `crawler.signals.send_catch_log`."""

# A URL could not be archived as meant: kwargs `url` (str) and `reason` (one line).
fetch_failed = object()
