"""The member flavour over real HTTP: a member site of the 中铝网站群 (中州铝业), news under
/xwzx/ in the member template, its own docids, and stories shared with the main site."""

from __future__ import annotations

import re
import urllib.robotparser
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_group, build_site
from replica.site.flavours import (
    MEMBER_DEFAULT_NEW_ARTICLES,
    MEMBER_DOCID_BASE,
    MEMBER_PAGER_STYLES,
    SHARED_STORIES,
)
from replica.site.truth import ArticleTruth
from tests.replica_http import ARTICLE_URL, body_paragraphs, clean, get, get_live, list_links

MEMBER_NEWS = [
    ("./xwzx/gsyw/", "公司要闻"),
    ("./xwzx/qydt/", "企业动态"),
    ("./xwzx/mtjj/", "媒体聚焦"),
]
ARTICLE_H1 = '//div[contains(concat(" ", @class, " "), " article ")]/h1'
CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")


@pytest.fixture(scope="module")
def site() -> ReplicaSite:
    return build_site()


@pytest.fixture(scope="module")
def server(site: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(site) as running:
        yield running


@pytest.fixture(scope="module")
def group() -> tuple[ReplicaSite, ReplicaSite]:
    return build_group()


@pytest.fixture(scope="module")
def member(group: tuple[ReplicaSite, ReplicaSite]) -> ReplicaSite:
    return group[1]


@pytest.fixture(scope="module")
def member_server(member: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(member) as running:
        yield running


def test_member_home_nav_children_under_xwzx(member_server: ReplicaServer) -> None:
    status, headers, body = get(member_server.base_url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    html = body.decode("utf-8")
    doc = lxml.html.fromstring(body)
    menu = doc.xpath('//div[@class="nav"]//ul[@class="menu"]')[0]
    top = [a.text_content() for a in menu.xpath("./li/a")]
    assert top == ["首页", "走进中州", "新闻中心", "党建工作", "联系我们"]
    children = menu.xpath('./li[a="新闻中心"]/ul/li/a')
    assert [(a.get("href"), a.text_content()) for a in children] == MEMBER_NEWS
    assert menu.xpath('./li[a="新闻中心"]/a/@href') == ["./xwzx/"]
    assert "通函与公告" not in html and "tzzgx" not in html and "xwdt" not in html
    # The current header puts the site name in a logo <h1>.
    assert [clean(h.text_content()) for h in doc.xpath('//h1[@class="logo"]')] == [
        "中铝中州铝业有限公司"
    ]
    recent = doc.xpath('//div[@class="index-col"][1]//li/a/@href')
    assert len(recent) == 8 and all(ARTICLE_URL.match(h.removeprefix(".")) for h in recent)
    for href, _ in [("./xwzx/", ""), *MEMBER_NEWS, ("./zjzz/", ""), ("./lxwm/", "")]:
        assert get(member_server.base_url + href.removeprefix("./"))[0] == 200
    assert get(member_server.base_url + "xwdt/")[0] == 404


def test_member_list_pages_and_counts(member_server: ReplicaServer, member: ReplicaSite) -> None:
    assert list(member.sections) == ["xwzx/gsyw", "xwzx/qydt", "xwzx/mtjj"]
    assert all(member.list_pages[s] >= 3 for s in member.sections)
    for section, pages in member.list_pages.items():
        for current, path in enumerate(member.list_paths(section)):
            body = get_live(member_server, path).decode("utf-8")
            style = MEMBER_PAGER_STYLES[section]
            if style == "createPageHTML":
                assert f'createPageHTML({pages}, {current}, "index", "html");' in body
            elif style == "countPage":
                assert f"var countPage = {pages}//共多少页" in body
            else:
                assert "createPageHTML(" not in body and "countPage" not in body
        assert get(member_server.base_url + f"{section}/index_{pages}.html")[0] == 404
        on_site = {
            urlsplit(href).path
            for href, _ in list_links(member_server, member, section)
            if href.startswith(member_server.base_url)
        }
        assert {a.url_path for a in member.articles if section in a.sections} <= on_site


def check_member_article(server: ReplicaServer, site: ReplicaSite, truth: ArticleTruth) -> bool:
    """Check one member-template page against its truth; True if it has a logo <h1>."""
    status, headers, body = get(server.base_url + truth.url_path.lstrip("/"))
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(body.decode("utf-8"))
    assert not doc.xpath(
        '//*[contains(@class, "content-title") or contains(@class, "content-info")'
        ' or contains(@class, "content-con")]'
    )
    assert doc.xpath('//meta[@name="ArticleTitle"]/@content') == [truth.title]
    assert doc.xpath('//meta[@name="SiteName"]/@content') == [site.site_name]
    assert doc.xpath('//meta[@name="PubDate"]/@content')[0] == truth.created[:16].replace("T", " ")
    assert [clean(h.text_content()) for h in doc.xpath(ARTICLE_H1)] == [truth.title]
    logos = doc.xpath('//h1[@class="logo"]')
    assert [clean(h.text_content()) for h in logos] in ([], [site.site_name])
    info = "".join(doc.xpath('//div[@class="article-attr"]')[0].text_content().split())
    match = re.fullmatch(
        r"来源[:：](.*)时间[:：](\d{4}-\d{2}-\d{2})(\d{2}:\d{2}:\d{2})作者[:：](.+)", info
    )
    assert match is not None, info
    assert (match.group(1) or None) == truth.source
    assert f"{match.group(2)}T{match.group(3)}+08:00" == truth.published
    assert match.group(4) == truth.author
    assert body_paragraphs(doc) == truth.paragraphs
    page_url = server.base_url.rstrip("/") + truth.url_path
    images = doc.xpath('//div[@class="article-body"]//img/@src')
    assert [urlsplit(urljoin(page_url, src)).path for src in images] == [
        f.url_path for f in truth.images
    ]
    return bool(logos)


def test_member_articles_match_truth(member_server: ReplicaServer, member: ReplicaSite) -> None:
    logos = []
    for truth in member.articles:
        assert truth.template == "member" and truth.encoding == "utf-8"
        assert truth.author and CLOCK.fullmatch(truth.published)
        assert truth.sections[0] in member.sections and ARTICLE_URL.match(truth.url_path)
        logos.append(check_member_article(member_server, member, truth))
    # Older pages keep the header with a logo <h1> before the title's <h1>; newer ones do not.
    assert any(logos) and not all(logos)
    assert any(a.source is None for a in member.articles)
    # Images carry captions: the centred <p> under an image is a line of the truth.
    captions = []
    for truth in (a for a in member.articles if a.images):
        doc = lxml.html.fromstring(get_live(member_server, truth.url_path))
        for img in doc.xpath('//div[@class="article-body"]//p[img]'):
            after = img.getnext()
            centred = after is not None and "text-align:center" in after.get("style", "")
            if centred and not after.xpath(".//img"):
                captions.append(clean(after.text_content()))
                assert captions[-1] in truth.paragraphs
    assert len(captions) >= 2
    for path in {f.url_path for a in member.articles for f in a.images}:
        status, headers, body = get(member_server.base_url + path.lstrip("/"))
        assert status == 200 and headers["Content-Type"] in ("image/jpeg", "image/png")


def test_shared_stories_match_chalco(
    group: tuple[ReplicaSite, ReplicaSite], member_server: ReplicaServer, server: ReplicaServer
) -> None:
    chalco, member = group
    assert server.site.articles == chalco.articles  # build_group's main site is build_site()
    assert len(member.shared_stories) == SHARED_STORIES
    same = []
    for member_path, chalco_path in member.shared_stories:
        ours, theirs = member.article(member_path), chalco.article(chalco_path)
        assert (ours.title, ours.paragraphs) == (theirs.title, theirs.paragraphs)
        assert ours.url_path.startswith("/xwzx/gsyw/") and theirs.url_path.startswith("/xwdt/")
        assert (ours.template, theirs.template) == ("member", "trs")
        # Over HTTP too: same title and body text under two templates.
        mine = lxml.html.fromstring(get_live(member_server, member_path))
        main = lxml.html.fromstring(get_live(server, chalco_path))
        assert clean(mine.xpath(ARTICLE_H1)[0].text_content()) == theirs.title
        assert clean(main.xpath('//div[@class="content-title"]')[0].text_content()) == ours.title
        assert body_paragraphs(mine) == body_paragraphs(main) == theirs.paragraphs
        if ours.docid == theirs.docid:
            same.append(ours)
            # A quoted document: same docid, same URL date, other channel path.
            assert ours.url_path.rsplit("/", 1)[1] == theirs.url_path.rsplit("/", 1)[1]
        else:
            assert ours.docid > MEMBER_DOCID_BASE and ours.created > theirs.created
    assert len(same) == 1


def test_member_docids_do_not_collide(group: tuple[ReplicaSite, ReplicaSite]) -> None:
    chalco, member = group
    (same,) = [
        m for m, c in member.shared_stories if member.article(m).docid == chalco.article(c).docid
    ]
    same_docid = member.article(same).docid
    chalco_ids = {a.docid for a in chalco.articles} | {
        e.docid for extra in chalco._extras.values() for e in extra
    }
    member_ids = {a.docid for a in member.articles} | {
        e.docid for extra in member._extras.values() for e in extra
    }
    assert len(member_ids) == len(member.articles) + 1  # the disallowed item
    assert chalco_ids & member_ids == {same_docid}
    assert max(chalco_ids) < MEMBER_DOCID_BASE < min(member_ids - {same_docid})
    # Within the member site docids grow with the URL date, the quoted document aside.
    own = sorted((a for a in member.articles if a.docid != same_docid), key=lambda a: a.docid)
    dates = [a.url_path.split("/")[4][1:9] for a in own]
    assert dates == sorted(dates)
    for a in member.articles:
        match = ARTICLE_URL.match(a.url_path)
        assert (
            match
            and int(match.group(4)) == a.docid
            and a.created.startswith(
                f"{match.group(3)[:4]}-{match.group(3)[4:6]}-{match.group(3)[6:]}"
            )
        )


def test_member_robots_txt_and_disallowed(
    member_server: ReplicaServer, member: ReplicaSite
) -> None:
    status, _, body = get(member_server.base_url + "robots.txt")
    assert status == 200 and b"zzly.chinalco.com.cn" in body
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode("utf-8").splitlines())
    private = member.specials.disallowed
    assert private.startswith("/xwzx/gsyw/nbzl/")
    assert not robots.can_fetch("chalco-archive", member_server.base_url + private.lstrip("/"))
    assert all(
        robots.can_fetch("chalco-archive", member_server.base_url + a.url_path.lstrip("/"))
        for a in member.articles
    )
    listed = {urlsplit(h).path for h, _ in list_links(member_server, member, "xwzx/gsyw")}
    assert private in listed and get(member_server.base_url + private.lstrip("/"))[0] == 200


def test_member_build_is_deterministic(member: ReplicaSite) -> None:
    again = build_site(articles=40, flavour="member")
    assert again.articles == member.articles and again.shared_stories == member.shared_stories
    assert again.render(member.articles[0].url_path, "h") == member.render(
        member.articles[0].url_path, "h"
    )
    other = build_group(seed=7, articles=45, member_articles=30, page_size=4)[1]
    assert len(other.articles) == 30 and len(other.shared_stories) == SHARED_STORIES
    assert all(other.list_pages[s] >= 3 for s in other.sections)
    with pytest.raises(ValueError):
        build_site(flavour="nope")
    with pytest.raises(ValueError):
        build_group(member_articles=5)


def test_member_advance() -> None:
    member = build_group()[1]
    shared = [m for m, _ in member.shared_stories]
    edit, remove = member.default_edit(), member.default_removal()
    assert edit.startswith("/xwzx/gsyw/") and remove.startswith("/xwzx/qydt/")
    assert edit not in shared and remove not in shared
    state = member.advance()
    assert len(state.new_articles) == sum(MEMBER_DEFAULT_NEW_ARTICLES.values())
    for truth in state.new_articles:
        assert truth.template == "member" and truth.author and CLOCK.fullmatch(truth.published)
        assert truth.docid > MEMBER_DOCID_BASE
        page = member.render(truth.url_path, "h")
        assert page is not None and page[0] == 200
        html = page[2].decode("utf-8")
        assert f"<h1>{truth.title}</h1>" in html and "作者" in html
    gone = member.render(remove, "h")
    assert gone is not None and gone[0] == 404
    before = state.edited_before
    assert state.edited == edit and before is not None
    assert member.article(edit).title != before.title
    assert all(
        member.article(m).title == build_site().article(c).title for m, c in member.shared_stories
    )
