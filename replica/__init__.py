"""Local replica of www.chalco.com.cn (and of a member site of the 中铝网站群) for crawling
tests: generated sites plus an HTTP server."""

from replica.server import ReplicaServer, RequestLog
from replica.site import (
    DEFAULT_NEW_ARTICLES,
    ArticleTruth,
    FileTruth,
    LaterState,
    ReplicaSite,
    build_group,
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
    "build_group",
    "build_site",
    "default_later_state",
]
