"""Article pages: each article drawn from its truth and look in its template (TRS, member,
or the redesign), the 404/410 of a removed one, and the intranet page robots.txt disallows."""

from __future__ import annotations

import posixpath

from replica.site import redesign
from replica.site.article_html import (
    ArticleView,
    image,
    member_article,
    paragraph,
    trs_article,
)
from replica.site.chrome import MEMBER, ListItem, error_page
from replica.site.responses import Response, html_response, other_host, relative_href
from replica.site.state import ArticleLook, SiteState
from replica.site.truth import ArticleTruth


class ArticlePages(SiteState):
    """The site's article pages."""

    def _private_page(self, path: str) -> Response:
        title, modified = self._private[path]
        section = "/".join(path.split("/")[1:3])
        parent = section.split("/")[0]
        view = ArticleView(
            charset="utf-8",
            channel=self.sections[section],
            parent=(parent, self.profile.parents[parent]),
            title=title,
            source="办公室",
            published_raw=modified.strftime("%Y-%m-%d"),
            author=None,
            colon="：",
            metas=[("ArticleTitle", title)],
            body=paragraph("本页面为内部资料，仅限公司内部网络访问，请勿转载。", "indent"),
            files=[],
            related=[],
            original=None,
        )
        if self.flavour == "member":
            html = member_article(view, self._news_children(), MEMBER, logo_h1=True)
        else:
            html = trs_article(view)
        return html_response(html, modified)

    def _article_page(self, article: ArticleTruth, host: str) -> Response:
        if article.status != 200:
            message = "Gone" if article.status == 410 else "您访问的页面不存在或已被删除"
            body = error_page(article.status, message).encode("utf-8")
            return article.status, {"Content-Type": "text/html; charset=utf-8"}, body
        look = self._looks[article.url_path]
        section = article.sections[0]
        parent = section.split("/")[0]
        folder = posixpath.dirname(article.url_path) + "/"
        related = []
        for i, (path, title, date) in enumerate(look.related):
            if look.related_offsite and i == 0:
                href = f"http://{other_host(host)}{path}"  # TRS sometimes writes absolute links
            else:
                href = relative_href(folder, path)
            related.append(ListItem(href, title, date))
        metas = [
            ("SiteName", self.site_name),
            ("ColumnName", self.sections[section]),
            ("ArticleTitle", article.title),
            ("PubDate", look.created.strftime("%Y-%m-%d %H:%M")),
        ]
        if article.source or article.template == "trs":
            metas.append(("ContentSource", article.source or ""))
        view = ArticleView(
            charset=article.encoding,
            channel=self.sections[section],
            parent=(parent, self.profile.parents[parent]),
            title=article.title,
            source=article.source or "",
            published_raw=look.published_raw,
            author=article.author,
            colon=look.colon,
            metas=metas,
            body=_body_html(look),
            files=[(posixpath.basename(f.url_path), f.name or "") for f in article.attachments],
            related=related,
            original=look.original,
        )
        if self.template == "redesign":
            html = redesign.redesign_article(view, self._news_children(), self.profile.chrome)
        elif article.template == "member":
            html = member_article(view, self._news_children(), self.profile.chrome, look.logo_h1)
        else:
            html = trs_article(view)
        return html_response(html, look.modified, article.encoding)


def _body_html(look: ArticleLook) -> str:
    parts = []
    for kind, text, caption in look.blocks:
        if kind == "p":
            parts.append(paragraph(text, look.paragraph_style))
        elif kind == "img":
            parts.append(image(text, caption))
        else:
            parts.append("<p>&nbsp;</p>")
    return "\n".join(parts)
