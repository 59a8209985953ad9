"""A distributed crawl: several worker processes, on any machines, crawl one site group.

The workers share, in Redis:
- the request queue and the duplicate filter (scrapy-redis), so every URL is fetched once;
- each host's pace: the delay between two requests and the requests at once are counted
  for the whole fleet, so N workers never press one host harder than one worker would;
- who is alive and busy: each worker beats a key with a short lifetime; the fleet's crawl
  ends when the queue is empty and every live worker is idle, and a worker whose key has
  lapsed is gone (a later worker recovers its run and WARC files).

A crawl is one generation of the fleet: the first worker to join a fleet with no live
worker clears the last generation's queue and filter. What a killed worker had taken from
the queue is fetched by the next crawl, which walks every list page (archive.read.frontier).

This module is the fleet in Redis; the Scrapy components that make a crawl one of its
workers (scheduler, queue, host pace) are in chalco_crawler.fleet_worker.
"""

from __future__ import annotations

import hashlib
import os
import socket

import redis
from scrapy.settings import Settings

KEY_PREFIX = "chalco-archive"
JOIN_WAIT_SECONDS = 30.0

# Take the first request of the queue and mark the worker busy in one step, so that no
# other worker can see an empty queue and this worker idle while it holds a request.
POP_AND_MARK_BUSY = """
local taken = redis.call('ZRANGE', KEYS[1], 0, 0)
if #taken == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('SET', KEYS[2], 'busy', 'EX', ARGV[1])
return taken[1]
"""

# A host's turn: at most ARGV[2] requests at once across the fleet, and ARGV[1] ms between
# two starts. Returns 0 (go; the request holds token ARGV[3] until released or until
# ARGV[4] ms pass) or the ms to wait. Redis's clock, so that machines' clocks do not matter.
ACQUIRE_HOST = """
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 20 end
local next_start = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_start > now then return next_start - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', 86400000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
return 0
"""


def fleet_key(fleet: str, *parts: str) -> str:
    return ":".join((KEY_PREFIX, fleet, *parts))


class FleetError(RuntimeError):
    """The fleet cannot be joined: Redis unreachable (exit 5, like storage), or a worker of
    the same name running (exit 3, like a home in use)."""

    def __init__(self, message: str, exit_code: int = 5):
        super().__init__(message)
        self.exit_code = exit_code


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Fleet:
    """This worker's view of the fleet in Redis."""

    def __init__(self, url: str, name: str, worker: str, ttl: float):
        self.name = name
        self.worker = worker
        self.ttl = max(1, round(ttl))
        self.redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._pop = self.redis.register_script(POP_AND_MARK_BUSY)
        self._acquire = self.redis.register_script(ACQUIRE_HOST)

    @classmethod
    def from_settings(cls, settings: Settings) -> Fleet | None:
        url = settings.get("FLEET_REDIS_URL")
        if not url:
            return None
        return cls(
            url,
            settings.get("FLEET_NAME") or "default",
            settings.get("FLEET_WORKER") or default_worker_name(),
            settings.getfloat("FLEET_HEARTBEAT_TTL", 15.0),
        )

    # Keys ---------------------------------------------------------------------------------

    def key(self, *parts: str) -> str:
        return fleet_key(self.name, *parts)

    @property
    def queue_key(self) -> str:
        return self.key("requests")

    @property
    def dupefilter_key(self) -> str:
        return self.key("dupefilter")

    def worker_key(self, worker: str) -> str:
        return self.key("worker", worker)

    # Membership ---------------------------------------------------------------------------

    def join(self) -> bool:
        """Register this worker; True when it starts a new generation of the fleet."""
        lock = self.redis.lock(self.key("join"), timeout=JOIN_WAIT_SECONDS)
        try:
            if not lock.acquire(blocking_timeout=JOIN_WAIT_SECONDS):
                raise FleetError(
                    f"could not join fleet {self.name!r}: its join lock is held; retry", 3
                )
            try:
                if self.redis.exists(self.worker_key(self.worker)):
                    raise FleetError(
                        f"a worker named {self.worker!r} is already running in fleet"
                        f" {self.name!r}; give another --worker",
                        exit_code=3,
                    )
                fresh = not self.live_workers()
                if fresh:
                    self._clear_generation()
                self.beat("busy")  # starting: the others wait for this worker's start requests
                return fresh
            finally:
                lock.release()
        except redis.RedisError as error:
            raise FleetError(f"cannot reach Redis for fleet {self.name!r}: {error}") from error

    def _clear_generation(self) -> None:
        stale = [self.queue_key, self.dupefilter_key]
        stale += list(self.redis.scan_iter(match=self.key("claim", "*"), count=1000))
        stale += list(self.redis.scan_iter(match=self.queue_key + ":turns:*", count=1000))
        self.redis.delete(*stale)

    def live_workers(self) -> dict[str, str]:
        """Live workers and what they last said: busy or idle."""
        prefix = self.worker_key("")
        keys = list(self.redis.scan_iter(match=prefix + "*", count=1000))
        states = self.redis.mget(keys) if keys else []
        return {
            _text(key)[len(prefix) :]: _text(state)
            for key, state in zip(keys, states, strict=True)
            if state is not None
        }

    def beat(self, state: str) -> None:
        self.redis.set(self.worker_key(self.worker), state, ex=self.ttl)

    def others_busy(self) -> bool:
        return any(
            state != "idle"
            for worker, state in self.live_workers().items()
            if worker != self.worker
        )

    def is_gone(self, worker: str) -> bool:
        """Has this worker stopped beating (finished, or killed)?"""
        return worker != self.worker and not self.redis.exists(self.worker_key(worker))

    def leave(self) -> None:
        self.redis.delete(self.worker_key(self.worker))
        if not self.live_workers():
            self.redis.delete(self.queue_key, self.dupefilter_key)

    # Shared work --------------------------------------------------------------------------

    def pop(self, queue_key: str) -> bytes | None:
        result = self._pop(keys=[queue_key, self.worker_key(self.worker)], args=[self.ttl])
        return result if isinstance(result, bytes) else None

    def claim(self, what: str, seconds: float) -> bool:
        """True for the first worker of this generation to claim `what` (e.g. a file URL)."""
        digest = hashlib.sha256(what.encode("utf-8")).hexdigest()
        return bool(
            self.redis.set(self.key("claim", digest), self.worker, nx=True, ex=round(seconds))
        )

    # Per-host pace ------------------------------------------------------------------------

    def acquire_host(
        self, host: str, delay: float, concurrency: int, token: str, hold: float
    ) -> float:
        """0 when a request to `host` may start now, else the seconds to wait first."""
        wait_ms = self._acquire(
            keys=[self.key("host", host, "next"), self.key("host", host, "active")],
            args=[round(delay * 1000), concurrency, token, round(hold * 1000)],
        )
        return int(wait_ms) / 1000

    def release_host(self, host: str, token: str) -> None:
        self.redis.zrem(self.key("host", host, "active"), token)
