"""Challenge pages as WAFs and intranets serve them in place of content: an anti-bot script
answered with HTTP 412 or 202, a slider captcha, a login wall; and the fault site's cases
that answer listed articles with them (`ChallengeCases`). The pages are also used by the
tests of challenge detection."""

from __future__ import annotations

import hashlib
import re
from html import escape

from replica.faults.handler import Route, static
from replica.faults.pages import GSYW
from replica.faults.site import FaultSite
from replica.faults.stories import docid
from replica.faults.truth import FaultCase

# A first visit to a site behind a "dynamic" WAF: no text, a meta token and a script that
# computes a cookie and reloads the page (the shape of 瑞数-style 412 / 202 answers).
_SCRIPT_ONLY = """<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta id="{token_id}" content="{token}" r="m">
<script type="text/javascript" r="m">$_ts=window['$_ts'];if(!$_ts)$_ts={{}};$_ts.nsd=77304;
$_ts.cd="qr5hrrAlDGqGWEqmDA9FqrQlcGVNiqWhwalVqGlrDqlNYG7mDG9hDaq";</script>
<script type="text/javascript" charset="utf-8" src="/{script}.js" r="m"></script>
</head>
<body>
<script type="text/javascript" r="m">$_ts['l__']();</script>
</body></html>
"""

_CAPTCHA = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>安全验证</title>
<script src="https://g.alicdn.com/AWSC/AWSC/awsc.js"></script>
<style>#nc_1_wrapper{{width:300px;margin:120px auto}}</style>
</head>
<body>
<div class="waf-box">
<h3>访问验证</h3>
<p class="tip">为保障网站安全，请完成验证后继续访问。</p>
<div id="nc_1_wrapper"><div id="nc_1_n1z" class="nc_iconfont btn_slide">&gt;&gt;</div>
<span class="nc-lang-cnt">请按住滑块，拖动到最右边</span></div>
<p class="ref">请求编号：{ref}</p>
</div>
</body></html>
"""

_LOGIN = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>统一身份认证</title></head>
<body>
<div class="login-box">
<h2>中铝网站群统一身份认证</h2>
<p>该页面仅限内部用户访问，请登录后查看。</p>
<form action="/sso/login" method="post">
<label>账号 <input type="text" name="username"></label>
<label>密码 <input type="password" name="password"></label>
<button type="submit">登录</button>
</form>
</div>
</body></html>
"""


def _digest(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def script_only_page(seed: str = "") -> bytes:
    """A script-only body: nothing a reader sees, a token and scripts that set a cookie."""
    digest = _digest(seed)
    return _SCRIPT_ONLY.format(
        token_id=digest[:22], token=digest * 2, script=f"{digest[:4]}/{digest[4:16]}"
    ).encode("utf-8")


def captcha_page(seed: str = "") -> bytes:
    """A slider captcha (the shape of a cloud WAF's 'human check')."""
    return _CAPTCHA.format(ref=escape(_digest(seed)[:24])).encode("utf-8")


def login_page() -> bytes:
    """A login wall in place of the page."""
    return _LOGIN.encode("utf-8")


_ARTICLE_PAGE = re.compile(r"/t\d{8}_\d+\.html$")
_CHALLENGE_TITLES = {
    "challenge_412": "中铝股份召开2026年市场营销工作会议",
    "challenge_202": "中铝股份召开2026年采购管理工作会议",
    "challenge_captcha": "中铝股份召开2026年质量管理工作会议",
    "challenge_login": "中铝股份召开2026年保密工作会议",
}


class ChallengeCases(FaultSite):
    """Listed articles answered by challenge pages, and the switch that answers every
    article page so (`challenge_articles`)."""

    def _build_challenge_cases(self) -> None:
        """Listed articles answered by a challenge page instead of content (SITE.md does not
        say the site has a WAF; sites of the group may put one in front at any time)."""
        html_type = "text/html; charset=utf-8"
        for name, day, k, status, body, description in (
            (
                "challenge_412",
                8,
                31,
                412,
                script_only_page("412"),
                "412 with a script-only body (a token, scripts that set a cookie and reload)",
            ),
            (
                "challenge_202",
                8,
                32,
                202,
                script_only_page("202"),
                "202 with a script-only body",
            ),
            (
                "challenge_captcha",
                8,
                33,
                200,
                captcha_page("captcha"),
                "200 with a slider captcha page instead of the article",
            ),
            (
                "challenge_login",
                8,
                34,
                200,
                login_page(),
                "200 with a login form instead of the article",
            ),
        ):
            n = docid(day, k)
            self._case(
                FaultCase(
                    name,
                    f"/{GSYW}/202602/t202602{day:02d}_{n}.html",
                    description,
                    "archived as a capture only, not as an article; the crawl ends saying the"
                    " site answered with challenge pages (exit 6)",
                ),
                static(status, html_type, body),
                (_CHALLENGE_TITLES[name], f"2026-02-{day:02d}", n),
            )

    def _challenge_route(self, path: str) -> tuple[str | None, Route] | None:
        """While `challenge_articles` is set, the challenge page answering an article page."""
        blocked = self.challenge_articles
        if blocked is None or not _ARTICLE_PAGE.search(path):
            return None
        page = script_only_page(path) if blocked == 412 else captcha_page(path)
        return "challenge_articles", static(blocked, "text/html; charset=utf-8", page)
