"""The fleet's shared request queue (chalco_crawler.fleet): scrapy-redis's priority queue,
filtering and queueing in one step, whose pop leases the request to this worker."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy_redis.queue import PriorityQueue

from chalco_crawler.fleet import Fleet

# The meta key under which a request taken from the queue carries its lease (a retry of it
# carries it too: it goes back to the queue as the same request).
FLEET_LEASE = "fleet_lease"
# Requests of one host queued per priority before their turn numbers wrap around.
TURNS = 10_000_000

# Queue a request unless the shared filter has seen it (ARGV[2] = '1': filter it), in one
# step: its score is its priority plus its host's running count (see FleetQueue).
ENQUEUE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 and ARGV[2] == '1' then return false end
local turn = redis.call('INCR', KEYS[2])
local score = -tonumber(ARGV[3]) + (turn % tonumber(ARGV[5])) / tonumber(ARGV[5])
redis.call('ZADD', KEYS[3], score, ARGV[4])
return tostring(score)
"""


def queue_score(priority: int, turn: int) -> float:
    """A request's score in the queue, lowest first: its priority, then its host's turn
    within that priority (as ENQUEUE reckons it)."""
    return -priority + (turn % TURNS) / TURNS


class FleetQueue(PriorityQueue):
    """scrapy-redis's priority queue, whose pop leases the request to this worker (see
    chalco_crawler.fleet), taking the hosts in turn within a priority.

    Redis orders members of equal score by their bytes, that is by URL: a worker would take
    one host's requests, wait for that host's pace with all of them, and leave the other
    hosts idle. Each request's score is its priority plus its host's running count, so the
    queue gives each host's first request, then each host's second, and so on.
    """

    fleet: Fleet | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._enqueue = self.server.register_script(ENQUEUE)

    def turns_key(self, request: Request) -> str:
        return f"{self.key}:turns:{urlsplit(request.url).netloc}"

    def add(
        self, request: Request, fingerprint: str, dupefilter_key: str, *, filtered: bool
    ) -> tuple[float, bytes] | None:
        """Queue the request unless `filtered` and the filter has seen it: its (score,
        encoded request), or None when it was seen."""
        encoded = self._encode_request(request)
        score = self._enqueue(
            keys=[dupefilter_key, self.turns_key(request), self.key],
            args=[fingerprint, "1" if filtered else "0", request.priority, encoded, TURNS],
        )
        return None if score is None else (float(score), encoded)

    def push(self, request: Request) -> None:
        score = queue_score(request.priority, self.server.incr(self.turns_key(request)))
        self.server.zadd(self.key, {self._encode_request(request): score})

    def pop(self, timeout: int = 0) -> Request | None:
        if self.fleet is None:
            return super().pop(timeout)
        taken = self.fleet.pop(self.key)
        if taken is None:
            return None
        request = self._decode_request(taken[1])
        request.meta[FLEET_LEASE] = taken[0]
        return request
