"""Charset faults: pages whose declared charset lies (UTF-8 declared, GB18030 sent; GBK
declared, UTF-8 sent), and a <meta> that disagrees with the HTTP header."""

from __future__ import annotations

from replica.faults.handler import static
from replica.faults.pages import GGDT, GSYW, article_html
from replica.faults.site import FaultSite, good_article
from replica.faults.stories import docid, story
from replica.faults.truth import FaultCase


class CharsetLies(FaultSite):
    """Cases where the page's bytes are not in the charset it declares."""

    def _build_charset_lies(self) -> None:
        html_type = "text/html; charset=utf-8"
        d = story("qinghai", GSYW, 2, docid(2, 22))
        self._case(
            FaultCase(
                "wrong_charset",
                d.path,
                "HTTP header and <meta> say UTF-8, the bytes are GB18030",
                "read as GB18030 (the charset that decodes), fields exact; the mismatch "
                "flagged as a page problem",
                good=True,
            ),
            static(200, html_type, article_html(d).encode("gb18030")),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(good_article(d, [], case="wrong_charset"))

        d = story("lecture", GGDT, 3, docid(3, 29))
        tag = '<meta http-equiv="Content-Type" content="text/html; charset=gbk">'
        self._case(
            FaultCase(
                "gbk_declared_utf8",
                d.path,
                "HTTP header and <meta> say GBK, the bytes are UTF-8",
                "read as UTF-8 (the charset that decodes), fields exact; the mismatch "
                "flagged as a page problem",
                good=True,
            ),
            static(
                200,
                "text/html; charset=GBK",
                article_html(d, charset_tag=tag).encode("utf-8"),
            ),
            None,
        )
        self._list(GGDT, d.path, d.title, d.published, d.docid)
        self.good_articles.append(good_article(d, [], case="gbk_declared_utf8"))

        d = story("refined", GSYW, 1, docid(1, 23))
        tag = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        self._case(
            FaultCase(
                "mixed_charset",
                d.path,
                "<meta> says gb2312, the HTTP header says utf-8, the body is UTF-8",
                "HTTP charset wins (as in browsers): decoded as UTF-8, archived",
                good=True,
            ),
            static(200, html_type, article_html(d, charset_tag=tag).encode("utf-8")),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(good_article(d, [], case="mixed_charset"))
