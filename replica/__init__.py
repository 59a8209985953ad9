"""Local replica of www.chalco.com.cn for crawling tests: generated site plus HTTP server."""

from replica.server import ReplicaServer, RequestLog
from replica.site import (
    DEFAULT_NEW_ARTICLES,
    ArticleTruth,
    FileTruth,
    LaterState,
    ReplicaSite,
    build_site,
    default_later_state,
)

__all__ = [
    "DEFAULT_NEW_ARTICLES",
    "ArticleTruth",
    "FileTruth",
    "LaterState",
    "ReplicaServer",
    "ReplicaSite",
    "RequestLog",
    "build_site",
    "default_later_state",
]
