"""The site's files: attachments (PDF) and inline images as served, their truth, and a
corrected file uploaded under the same name a day later."""

from __future__ import annotations

import hashlib

from replica.site.responses import Response, validators
from replica.site.state import ServedFile, SiteState
from replica.site.truth import FileTruth


def file_truth(path: str, name: str | None, payload: bytes, media_type: str) -> FileTruth:
    return FileTruth(path, name, hashlib.sha256(payload).hexdigest(), len(payload), media_type)


class SiteFiles(SiteState):
    """Attachments and images: served bytes, and their replacement."""

    def file_bytes(self, url_path: str) -> bytes:
        return self._files[url_path].payload

    def replace_file(self, url_path: str, payload: bytes) -> None:
        """A corrected attachment or image uploaded under the same name, a day later: the
        URL serves `payload` with a new Last-Modified (so a new ETag), and the truth of
        every article naming it follows. Lists and pages keep their bytes."""
        if url_path not in self._files:
            raise ValueError(f"not a file of the site: {url_path}")
        old = self._files[url_path]
        day = self._next_day()
        self._files[url_path] = ServedFile(old.media_type, payload, day)
        self._touched[url_path] = day  # so that a later advance() comes after it
        for article in self.articles:
            for truth in article.attachments + article.images:
                if truth.url_path == url_path:
                    truth.sha256 = hashlib.sha256(payload).hexdigest()
                    truth.size = len(payload)

    def _file_response(self, url_path: str) -> Response:
        file = self._files[url_path]
        return 200, validators(file.media_type, file.payload, file.modified), file.payload
