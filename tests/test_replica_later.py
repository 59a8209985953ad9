"""The replica's later state, a day on: new articles on top of their lists, one edited, one
removed; every other page keeps its bytes and validators."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import lxml.html
import pytest

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_site
from replica.site.flavours import DEFAULT_NEW_ARTICLES, PAGER_STYLES
from replica.site.later import default_later_state
from replica.site.truth import LaterState
from tests.replica_http import ARTICLE_URL, check_article, get, get_live, list_links


@dataclass
class Later:
    server: ReplicaServer
    site: ReplicaSite
    state: LaterState
    links: dict[str, list[tuple[str, str]]]
    """list_links per section before the change."""
    pages: dict[str, int]
    """list_pages before the change."""
    responses: dict[str, tuple[int, dict[str, str], bytes]]
    """Responses before the change, by path."""
    related_to_edited: str
    """An unchanged article whose 相关新闻 lists the edited one."""


@pytest.fixture(scope="module")
def later() -> Iterator[Later]:
    """A site of its own, served, fetched, then advanced with the defaults while running."""
    site = build_site()
    edit, remove = site.default_edit(), site.default_removal()
    # An unchanged page whose 相关新闻 links the article that will be edited.
    name = edit.rsplit("/", 1)[1].encode()
    related = next(
        a.url_path
        for a in site.live_articles()
        if a.url_path not in (edit, site.specials.flaky) and name in site.render(a.url_path, "h")[2]
    )
    with ReplicaServer(site) as running:
        links = {s: list_links(running, site, s) for s in site.sections}
        paths = [
            *(p for s in site.sections for p in site.list_paths(s)),
            edit,
            remove,
            related,
            site.specials.sample,
            site.article(site.specials.news_attachment).attachments[0].url_path,
            site.specials.shared_image[0],
            "/xwdt/",
            "/tzzgx/",
        ]
        responses = {p: get(running.base_url + p.lstrip("/")) for p in paths}
        pages_before = dict(site.list_pages)
        state = site.advance()
        yield Later(running, site, state, links, pages_before, responses, related)


def test_later_state_defaults(later: Later) -> None:
    site, state = later.site, later.state
    assert state.day == "2026-02-07" and site.changes == [state]
    assert [a.sections for a in state.new_articles] == [["xwdt/qydt"]] * 2 + [["xwdt/gsyw"]] * 3
    edited, removed = site.article(state.edited), site.article(state.removed)
    assert edited.sections == ["xwdt/gsyw"] and not edited.attachments
    assert removed.sections == ["xwdt/ggdt"] and state.removed_files == []
    special = {
        site.specials.sample,
        site.specials.shared,
        site.specials.missing,
        site.specials.news_attachment,
        *site.specials.member,
        *site.specials.legacy,
        *site.specials.empty_source,
        *site.specials.ascii_colon,
    }
    assert not {state.edited, state.removed} & special
    # Same choices on every build.
    again = build_site()
    assert (again.default_edit(), again.default_removal()) == (state.edited, state.removed)
    assert default_later_state(again).new_paths == state.new_paths
    assert again.articles == site.articles


def test_later_new_articles_on_top(later: Later) -> None:
    server, site, state = later.server, later.site, later.state
    old = [a for a in site.articles if a.url_path not in state.new_paths]
    base = server.base_url.rstrip("/")
    for section, count in DEFAULT_NEW_ARTICLES.items():
        new = [a for a in state.new_articles if a.sections == [section]]
        assert len(new) == count
        links = list_links(server, site, section)
        assert [href for href, _ in links[:count]] == [base + a.url_path for a in new]
        # The old items, shifted down (the edited one under its new title).
        assert [h for h, _ in links[count:]] == [h for h, _ in later.links[section]]
        pages = math.ceil(len(links) / site.page_size)
        assert site.list_pages[section] == pages > later.pages[section]
        first = get_live(server, f"/{section}/").decode("utf-8")
        if PAGER_STYLES[section] == "createPageHTML":
            assert f'createPageHTML({pages}, 0, "index", "html");' in first
        assert get(server.base_url + f"{section}/index_{pages - 1}.html")[0] == 200
        assert get(server.base_url + f"{section}/index_{pages}.html")[0] == 404
    for truth in state.new_articles:
        assert truth in site.live_articles() and truth.template == "trs"
        assert truth.docid > max(a.docid for a in old)
        assert truth.created[:10] > max(a.created[:10] for a in old)
        assert truth.published > max(a.published[:10] for a in old)
        assert ARTICLE_URL.match(truth.url_path).group(3) == truth.created[:10].replace("-", "")
        assert truth.attachments == [] and truth.images == []
        check_article(server, truth)
        body = get_live(server, truth.url_path)
        assert b"<img" not in body.split(b'class="content-con')[1].split(b"</div>")[0]
    # The home page shows the newest items.
    home = lxml.html.fromstring(get_live(server, "/"))
    recent = [h.removeprefix(".") for h in home.xpath('//div[@class="index-news"]//li/a/@href')]
    assert recent[:5] == [a.url_path for a in state.new_articles]


def test_later_edited_article(later: Later) -> None:
    server, site, state = later.server, later.site, later.state
    truth, before = site.article(state.edited), state.edited_before
    assert before is not None and before.url_path == truth.url_path
    assert truth.title != before.title and len(truth.title) == len(before.title)
    assert (
        truth.paragraphs[:-1] == before.paragraphs
        and len(truth.paragraphs) == len(before.paragraphs) + 1
    )
    check_article(server, truth)
    old_status, old_headers, old_body = later.responses[state.edited]
    url = server.base_url + state.edited.lstrip("/")
    status, headers, body = get(url)
    assert old_status == status == 200 and body != old_body
    assert headers["ETag"] != old_headers["ETag"]
    assert parsedate_to_datetime(headers["Last-Modified"]) > parsedate_to_datetime(
        old_headers["Last-Modified"]
    )
    # A revisit with the old validators gets the new page, not 304.
    assert get(url, {"If-None-Match": old_headers["ETag"]})[::2] == (200, body)
    assert get(url, {"If-Modified-Since": old_headers["Last-Modified"]})[::2] == (200, body)
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    titles = dict(list_links(server, site, "xwdt/gsyw"))
    assert titles[server.base_url.rstrip("/") + state.edited] == truth.title


def test_later_removed_article(later: Later) -> None:
    server, site, state = later.server, later.site, later.state
    removed = site.article(state.removed)
    assert removed.status == 404 and removed not in site.live_articles()
    assert later.responses[state.removed][0] == 200
    url = server.base_url + state.removed.lstrip("/")
    assert get(url)[0] == 404
    assert get(url, {"If-None-Match": later.responses[state.removed][1]["ETag"]})[0] == 404
    target = server.base_url.rstrip("/") + state.removed
    assert target in dict(later.links["xwdt/ggdt"])
    links = list_links(server, site, "xwdt/ggdt")
    assert links == [link for link in later.links["xwdt/ggdt"] if link[0] != target]
    # The list changed, so a revisit by date must not get 304 either.
    first = later.responses["/xwdt/ggdt/"][1]
    assert (
        get(server.base_url + "xwdt/ggdt/", {"If-Modified-Since": first["Last-Modified"]})[0] == 200
    )
    assert get(server.base_url + "xwdt/ggdt/", {"If-None-Match": first["ETag"]})[0] == 200
    live = {a.url_path for a in site.live_articles()}
    assert set(state.new_paths) <= live and state.removed not in live
    assert len(live) == len(later.site.articles) - 2  # the old missing page and the removed one


def test_later_unchanged_pages_revalidate(later: Later) -> None:
    server, state = later.server, later.state
    changed = {state.edited, state.removed, "/xwdt/"} | {
        p for s in ("xwdt/gsyw", "xwdt/qydt", "xwdt/ggdt") for p in later.site.list_paths(s)
    }
    unchanged = [p for p in later.responses if p not in changed]
    assert later.related_to_edited in unchanged and "/xwdt/mtgz/" in unchanged
    for path in unchanged:
        old_status, old_headers, old_body = later.responses[path]
        url = server.base_url + path.lstrip("/")
        status, headers, body = get(url)
        assert (status, body) == (old_status, old_body), path
        for name in ("ETag", "Last-Modified"):
            assert headers[name] == old_headers[name], path
        assert get(url, {"If-None-Match": old_headers["ETag"]})[0] == 304, path
        assert get(url, {"If-Modified-Since": old_headers["Last-Modified"]})[0] == 304, path
    # A static page keeps its stale 相关新闻 title of the edited article.
    old_title = state.edited_before.title if state.edited_before else ""
    assert old_title.encode() in get_live(server, later.related_to_edited)


def test_advance_explicit_changes_and_errors() -> None:
    site = build_site(articles=40, seed=5)
    pages = dict(site.list_pages)
    removed = site.specials.shared
    files = [
        f.url_path
        for f in site.article(site.specials.news_attachment).attachments
        + site.article(site.specials.news_attachment).images
    ]
    with pytest.raises(ValueError):
        site.advance(edit=site.specials.missing)
    with pytest.raises(ValueError):
        site.advance(new_articles={"xwdt/nosuch": 1})
    with pytest.raises(ValueError):
        site.advance(remove=removed, remove_status=500)
    assert site.changes == []
    state = site.advance(new_articles={"tzzgx/thygg": 1}, remove=removed, remove_status=410)
    assert state.edited is None and state.edited_before is None and state.removed == removed
    assert site.render(removed, "h")[0] == 410 and site.article(removed).status == 410
    for section in ("xwdt/gsyw", "xwdt/ggdt"):
        assert all(e.target != removed for e in site._entries[section])
    assert site.list_pages["xwdt/qydt"] == pages["xwdt/qydt"]
    (notice,) = state.new_articles
    assert notice.sections == ["tzzgx/thygg"] and site._entries["tzzgx/thygg"][0].target == (
        notice.url_path
    )
    # Removing an article takes its files with it; a second day moves on again.
    second = site.advance(remove=site.specials.news_attachment)
    assert second.removed_files == files and all(site.render(f, "h") is None for f in files)
    assert second.day > state.day and second.new_articles == []
    with pytest.raises(ValueError):
        site.advance(edit=removed)
