"""How the replica answers: a response triple with validators (Last-Modified, ETag), HTML in
its declared charset, the 301 of a moved page, and the links between pages and hosts."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import posixpath

from replica.site.chrome import error_page

Response = tuple[int, dict[str, str], bytes]


def other_host(host: str) -> str:
    """The same server under its other loopback name (127.0.0.1 <-> localhost)."""
    name, sep, port = host.rpartition(":")
    if not sep or not port.isdigit():
        name, port = host, ""
    alt = "127.0.0.1" if name == "localhost" else "localhost"
    return f"{alt}:{port}" if port else alt


def relative_href(from_dir: str, target: str) -> str:
    """`target` (a path on the site) as written in a page of the folder `from_dir`."""
    rel = posixpath.relpath(target, from_dir)
    return rel if rel.startswith("../") else "./" + rel


def _http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def validators(content_type: str, body: bytes, modified: dt.datetime) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Last-Modified": _http_date(modified),
        "ETag": '"' + hashlib.sha1(body).hexdigest()[:16] + '"',
    }


def html_response(html: str, modified: dt.datetime, charset: str = "utf-8") -> Response:
    # Legacy labels are encoded as GB18030, a superset, as browsers decode them.
    body = html.encode("gb18030" if charset in ("gb2312", "gbk") else "utf-8")
    return 200, validators(f"text/html; charset={charset}", body, modified), body


def redirect_response(host: str, target: str) -> Response:
    body = error_page(301, "Moved Permanently").encode("utf-8")
    return (
        301,
        {"Location": f"http://{host}{target}", "Content-Type": "text/html; charset=utf-8"},
        body,
    )
