"""A deterministic generated replica of www.chalco.com.cn (TRS WCM), following docs/site.md.

Two flavours: "chalco" (www.chalco.com.cn, the default) and "member", a member site of
the 中铝网站群 (中州铝业, zzly.chinalco.com.cn) with its news under /xwzx/, some of it
republished from the chalco flavour of the same seed (see `build_group`).

`ReplicaSite`, here, is one site: its state (state.py) and a part per page kind: home and
navigation (home.py), list pages and the pager (lists.py), article pages (articles.py, with
the templates in article_html.py and redesign.py), files (files.py), and its later states
(later.py). build.py generates sites (chalco.py, member.py); truth.py is what tests compare
against; flavours.py and chrome.py hold what differs between the sites of the group.
"""

from __future__ import annotations

from replica.site.articles import ArticlePages
from replica.site.files import SiteFiles
from replica.site.home import HomePages
from replica.site.later import SiteChanges
from replica.site.lists import ListPages
from replica.site.responses import Response, redirect_response


class ReplicaSite(HomePages, ListPages, ArticlePages, SiteFiles, SiteChanges):
    """The generated site: truth for tests plus on-demand rendering of every URL."""

    def render(self, path: str, host: str) -> Response | None:
        """The response for a GET of `path` with Host `host`; None when nothing is there."""
        host = host or "127.0.0.1"
        route = self._routes.get(path)
        if route is None:
            # Like Apache: a directory asked for without its slash is redirected.
            if not path.endswith("/") and self._routes.get(path + "/"):
                return redirect_response(host, path + "/")
            return None
        kind, key = route
        if kind == "article":
            return self._article_page(self._by_path[key], host)
        if kind == "list":
            section, page = key.split("|")
            return self._list_page(section, int(page), host)
        if kind == "file":
            return self._file_response(key)
        if kind == "home":
            return self._member_home() if self.flavour == "member" else self._home()
        if kind == "landing":
            return self._landing(key)
        if kind == "static":
            return self._static(key)
        if kind == "private":
            return self._private_page(key)
        if kind == "redirect":
            return redirect_response(host, key)
        if kind == "robots":
            return self._robots()
        if kind == "logo":
            return self._logo()
        return self._stylesheet()
