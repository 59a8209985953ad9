"""Signals of this project, sent with `crawler.signals.send_catch_log`."""

# A URL could not be archived as meant: kwargs `url` (str) and `reason` (one line).
fetch_failed = object()

# A response was a challenge page (anti-bot check, captcha, login wall), not the content
# asked for: kwargs `url` (str), `status` (int) and `reason` (one line).
challenge_seen = object()
