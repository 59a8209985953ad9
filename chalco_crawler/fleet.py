"""A distributed crawl: several worker processes, on any machines, crawl one site group.

The workers share, in Redis:
- the request queue and the duplicate filter (scrapy-redis), so every URL is fetched once;
- leases: a request taken from the queue stays leased to its worker (in the worker's lease
  hash, with its place in the queue) until its results are committed to the archive, as
  Celery's `acks_late` keeps a task; a worker whose heartbeat lapses (killed, cut off) has
  its leases put back in the queue by any live worker, atomically and once;
- each host's pace: the delay between two requests and the requests at once are counted
  for the whole fleet, so N workers never press one host harder than one worker would;
- who is alive and busy: each worker beats a key with a short lifetime.

A crawl is one generation of the fleet: the first worker to join a fleet with no live worker
clears the last generation's keys and names a new generation, which is a fleet run in the
archive. The archive also keeps what the generation queued and finished (the frontier,
archive.store.writer.fleet), so that a queue Redis lost can be rebuilt
(chalco_crawler.fleet_frontier). Redis itself may run without persistence.

This module is the fleet in Redis; the Scrapy components that make a crawl one of its
workers (scheduler, queue, host pace) are in chalco_crawler.fleet_worker.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis

from archive.errors import one_line

if TYPE_CHECKING:
    from scrapy.settings import Settings

KEY_PREFIX = "chalco-archive"
JOIN_WAIT_SECONDS = 30.0
# How long a worker keeps trying to reach Redis or the database before it gives up (exit 5).
DEFAULT_RETRY_SECONDS = 60.0
# Backoff between two tries of an unreachable Redis.
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 5.0

# Take the first request of the queue and lease it to this worker in one step: the lease
# holds the request with its place in the queue (score, a space, the request), so that it
# can be put back as it was. The worker is marked busy in the same step, so that no other
# worker can see an empty queue and this worker idle while it holds a request.
POP_AND_LEASE = """
local taken = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #taken == 0 then return false end
redis.call('ZREM', KEYS[1], taken[1])
redis.call('HSET', KEYS[2], ARGV[2], taken[2] .. ' ' .. taken[1])
redis.call('SET', KEYS[3], 'busy', 'EX', ARGV[1])
return taken[1]
"""

# A worker's heartbeat: alive and busy or idle for ARGV[2] s, a member of the generation,
# last seen now (Redis's clock); returns the generation Redis holds (false once lost).
BEAT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], redis.call('TIME')[1])
return redis.call('GET', KEYS[4])
"""

# Seconds since a worker of the generation last beat: while any did within this many
# heartbeat lifetimes, a worker joining with none alive joins that generation (its workers
# may be stalled, or all killed a moment ago) rather than starting a new one over it.
RESUME_LIFETIMES = 10

# Put a worker's leases back in the queue, each at its place, and count them for that
# worker. With ARGV[2] = '1' only if the worker's heartbeat has lapsed: checked in the same
# step, so that a worker that comes back at that moment keeps its leases, and two live
# workers putting back the same leases put them back once.
RETURN_LEASES = """
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local leased = redis.call('HVALS', KEYS[2])
for _, value in ipairs(leased) do
  local space = string.find(value, ' ', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(value, 1, space - 1), string.sub(value, space + 1))
end
redis.call('DEL', KEYS[2])
if #leased > 0 then redis.call('HINCRBY', KEYS[4], ARGV[1], #leased) end
return #leased
"""

# A leased request that goes back to the queue as it is (a retry): queued again and no
# longer leased, in one step.
REQUEUE_LEASED = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
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


def redis_place(url: str) -> str:
    """Where a Redis URL points, for a message: HOST:PORT/DB, never its password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or '/0'}"


class Fleet:
    """This worker's view of the fleet in Redis, and whether Redis answers."""

    def __init__(
        self,
        url: str,
        name: str,
        worker: str,
        ttl: float,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ):
        self.name = name
        self.worker = worker
        self.ttl = max(1, round(ttl))
        self.retry_seconds = retry_seconds
        self.place = redis_place(url)
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.generation: str | None = None
        """This worker's generation of the fleet (set by join)."""
        self.server_run: str | None = None
        """The Redis process's run_id when this worker joined: another one means Redis was
        restarted, and lost (without persistence) or may have lost (with) what it held."""
        self._pop = self.redis.register_script(POP_AND_LEASE)
        self._return = self.redis.register_script(RETURN_LEASES)
        self._beat = self.redis.register_script(BEAT)
        self._requeue = self.redis.register_script(REQUEUE_LEASED)
        self._acquire = self.redis.register_script(ACQUIRE_HOST)
        self._leases = 0
        self.down_since: float | None = None
        """monotonic() of the first failed call of an outage; None while Redis answers."""
        self.last_error = ""
        self._retry_at = 0.0
        self._backoff = FIRST_BACKOFF

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
            settings.getfloat("FLEET_RETRY_SECONDS", DEFAULT_RETRY_SECONDS),
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

    def leases_key(self, worker: str) -> str:
        return self.key("leases", worker)

    # Reaching Redis -----------------------------------------------------------------------

    def unreachable(self, error: BaseException) -> None:
        """A call failed: Redis is away until a later try answers (backing off)."""
        now = time.monotonic()
        if self.down_since is None:
            self.down_since, self._backoff = now, FIRST_BACKOFF
        else:
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        self._retry_at = now + self._backoff
        self.last_error = one_line(error)

    def reached(self) -> None:
        self.down_since = None

    @property
    def away(self) -> bool:
        """Is Redis known to be unreachable (and not yet due for another try)?"""
        return self.down_since is not None and time.monotonic() < self._retry_at

    def away_for(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def unreachable_message(self, seconds: float) -> str:
        return (
            f"cannot reach Redis at {self.place} for fleet {self.name!r} (tried for"
            f" {seconds:.0f} s): {self.last_error}"
        )

    # Membership ---------------------------------------------------------------------------

    def join(self) -> bool:
        """Register this worker, trying for retry_seconds while Redis does not answer; True
        when it starts a new generation of the fleet."""
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                fresh = self._join()
                self.reached()
                return fresh
            except redis.RedisError as error:
                self.unreachable(error)
                if time.monotonic() + self._backoff > deadline:
                    raise FleetError(self.unreachable_message(self.retry_seconds)) from error
                time.sleep(self._backoff)

    def _join(self) -> bool:
        lock = self.redis.lock(self.key("join"), timeout=JOIN_WAIT_SECONDS)
        if not lock.acquire(blocking_timeout=JOIN_WAIT_SECONDS):
            raise FleetError(f"could not join fleet {self.name!r}: its join lock is held; retry", 3)
        try:
            if self.redis.exists(self.worker_key(self.worker)):
                raise FleetError(
                    f"a worker named {self.worker!r} is already running in fleet"
                    f" {self.name!r}; give another --worker",
                    exit_code=3,
                )
            fresh = not self.live_workers() and not self._beaten_lately()
            if fresh:
                self._clear_generation()
                self.redis.set(self.key("generation"), uuid.uuid4().hex)
            self.generation = _text(self.redis.get(self.key("generation")) or b"") or None
            if self.generation is None:  # Redis lost its memory since the last crawl
                self.generation = uuid.uuid4().hex
                self.redis.set(self.key("generation"), self.generation)
            self.beat("busy")  # starting: the others wait for this worker's start requests
            self.server_run = self.redis_run()
            return fresh
        finally:
            lock.release()

    def _beaten_lately(self) -> bool:
        now = int(self.redis.time()[0])
        beats = self.redis.hvals(self.key("beats"))
        return any(now - int(beat) < RESUME_LIFETIMES * self.ttl for beat in beats)

    def _clear_generation(self) -> None:
        stale = [
            self.queue_key,
            self.dupefilter_key,
            self.key("workers"),
            self.key("beats"),
            self.key("requeued"),
            self.key("generation"),
        ]
        for pattern in ("claim", "leases"):
            stale += list(self.redis.scan_iter(match=self.key(pattern, "*"), count=1000))
        stale += list(self.redis.scan_iter(match=self.queue_key + ":turns:*", count=1000))
        self.redis.delete(*stale)

    def members(self) -> list[str]:
        """Every worker that joined this generation (alive or not)."""
        return sorted(_text(name) for name in self.redis.smembers(self.key("workers")))

    def live_workers(self) -> dict[str, str]:
        """Live workers and what they last said: busy or idle."""
        names = self.members()
        states = self.redis.mget([self.worker_key(name) for name in names]) if names else []
        return {
            name: _text(state)
            for name, state in zip(names, states, strict=True)
            if state is not None
        }

    def beat(self, state: str) -> str | None:
        """Say this worker is alive and busy or idle; the generation Redis holds (None when
        Redis has lost it: restarted empty)."""
        generation = self._beat(
            keys=[
                self.worker_key(self.worker),
                self.key("workers"),
                self.key("beats"),
                self.key("generation"),
            ],
            args=[state, self.ttl, self.worker],
        )
        return _text(generation) if generation is not None else None

    def redis_run(self) -> str:
        return str(self.redis.info("server").get("run_id", ""))

    def restore_generation(self) -> bool:
        """Redis restarted empty: name this worker's generation again, so that the fleet
        goes on as the same run. True for the worker that did it (it rebuilds the filter)."""
        assert self.generation is not None
        return bool(self.redis.set(self.key("generation"), self.generation, nx=True))

    def is_gone(self, worker: str) -> bool:
        """Has this worker stopped beating (finished, or killed)?"""
        return worker != self.worker and not self.redis.exists(self.worker_key(worker))

    def leave(self) -> bool:
        """Put back what this worker still holds, and go; True when it was the last."""
        self.return_leases()
        self.redis.delete(self.worker_key(self.worker))
        self.redis.srem(self.key("workers"), self.worker)
        self.redis.hdel(self.key("beats"), self.worker)
        if self.live_workers():
            return False
        # The generation is over: the next worker to join starts a new one at once.
        self.redis.delete(self.queue_key, self.dupefilter_key, self.key("beats"))
        return True

    # Shared work and leases ---------------------------------------------------------------

    def pop(self, queue_key: str) -> tuple[str, bytes] | None:
        """The first request of the queue, leased to this worker: (lease, request)."""
        self._leases += 1
        lease = f"{self._leases}"
        result = self._pop(
            keys=[queue_key, self.leases_key(self.worker), self.worker_key(self.worker)],
            args=[self.ttl, lease],
        )
        return (lease, result) if isinstance(result, bytes) else None

    def release(self, leases: list[str]) -> None:
        """These requests' results are committed: they are done for the fleet."""
        if leases:
            self.redis.hdel(self.leases_key(self.worker), *leases)

    def requeue_leased(self, lease: str, score: float, encoded: bytes) -> None:
        """A leased request goes back to the queue (a retry): queued, and no longer leased."""
        self._requeue(
            keys=[self.queue_key, self.leases_key(self.worker)], args=[score, encoded, lease]
        )

    def return_leases(self, worker: str | None = None) -> int:
        """Put a worker's leases back in the queue: this worker's own (it gives up what it
        could not commit), or a worker's whose heartbeat has lapsed. How many."""
        worker = worker or self.worker
        return int(
            self._return(
                keys=[
                    self.queue_key,
                    self.leases_key(worker),
                    self.worker_key(worker),
                    self.key("requeued"),
                ],
                args=[worker, "0" if worker == self.worker else "1"],
            )
        )

    def return_lapsed_leases(self) -> dict[str, int]:
        """Put back the leases of every worker of the generation whose heartbeat lapsed:
        {worker: requests put back} for those this call put back."""
        names = [name for name in self.members() if name != self.worker]
        if not names:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.exists(self.worker_key(name))
            pipe.hlen(self.leases_key(name))
        answers = pipe.execute()
        returned = {}
        for index, name in enumerate(names):
            alive, leased = answers[2 * index], answers[2 * index + 1]
            if not alive and leased and (count := self.return_leases(name)):
                returned[name] = count
        return returned

    def drained(self) -> bool:
        """Is the generation's work all done for Redis: nothing queued, nothing leased by
        any worker, no other live worker busy?"""
        names = self.members()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self.queue_key)
        for name in names:
            pipe.hlen(self.leases_key(name))
            pipe.get(self.worker_key(name))
        queued, *rest = pipe.execute()
        leased = sum(rest[0::2])
        busy = any(
            state is not None and _text(state) != "idle"
            for name, state in zip(names, rest[1::2], strict=True)
            if name != self.worker
        )
        return not queued and not leased and not busy

    def requeued(self) -> dict[str, int]:
        """Requests put back in the queue this generation, by the worker that held them."""
        return {
            _text(name): int(count)
            for name, count in self.redis.hgetall(self.key("requeued")).items()
        }

    def lock(self, what: str, seconds: float) -> bool:
        """A short lock for one worker at a time (e.g. rebuilding the queue)."""
        return bool(self.redis.set(self.key("lock", what), self.worker, nx=True, ex=round(seconds)))

    def unlock(self, what: str) -> None:
        self.redis.delete(self.key("lock", what))

    def claim_key(self, what: str) -> str:
        """Where a claim of `what` is kept in Redis: named by its SHA-256."""
        return self.key("claim", hashlib.sha256(what.encode("utf-8")).hexdigest())

    def claim(self, what: str, seconds: float) -> bool:
        """True for the first worker of this generation to claim `what` (e.g. a file URL),
        and for that worker again (it fetches it again after losing what it wrote)."""
        key = self.claim_key(what)
        if self.redis.set(key, self.worker, nx=True, ex=round(seconds)):
            return True
        return self.redis.get(key) == self.worker.encode()

    def unclaim(self, what: str) -> None:
        """Give up a claim of this worker's (what it fetched was lost with its batch)."""
        key = self.claim_key(what)
        if self.redis.get(key) == self.worker.encode():
            self.redis.delete(key)

    def claimant(self, what: str) -> str | None:
        holder = self.redis.get(self.claim_key(what))
        return _text(holder) if holder is not None else None

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
