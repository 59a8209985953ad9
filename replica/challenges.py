"""Challenge pages as WAFs and intranets serve them in place of content: an anti-bot script
answered with HTTP 412 or 202, a slider captcha, a login wall. Used by the fault replica
(replica/faults.py) and the tests of challenge detection."""

from __future__ import annotations

import hashlib
from html import escape

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
