"""Local replica of www.chalco.com.cn for crawling tests: generated site plus HTTP server."""

from replica.server import ReplicaServer, RequestLog
from replica.site import ArticleTruth, FileTruth, ReplicaSite, build_site

__all__ = ["ArticleTruth", "FileTruth", "ReplicaServer", "ReplicaSite", "RequestLog", "build_site"]
