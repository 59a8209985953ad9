"""The replica after a redesign of its article template (replica/site/redesign.py): same site,
same truths; the bundled profiles misread its pages, the fitted profile reads them exactly."""

from __future__ import annotations

import tomllib

import pytest

from chalco_crawler.profile import load_profile, profile_from_dict
from pipelines.extraction import extract_article
from pipelines.normalization import normalize
from replica.__main__ import main as replica_main
from replica.site import ReplicaSite
from replica.site.build import build_site
from replica.site.redesign import fitted_profile_toml, shown_date

HOST = "127.0.0.1:8000"
BUNDLED = {"chalco": "chalco", "member": "zzly"}


def fields(site: ReplicaSite, url_path: str, profile_name_or_toml: str) -> dict:
    if profile_name_or_toml.startswith("name ="):
        profile = profile_from_dict(tomllib.loads(profile_name_or_toml))
    else:
        profile = load_profile(profile_name_or_toml)
    status, headers, body = site.render(url_path, HOST)
    assert status == 200
    url = f"http://{HOST}{url_path}"
    article = normalize(
        extract_article(body, url, content_type=headers["Content-Type"], rules=profile.extraction),
        profile.timezone,
    )
    return {
        "title": article.title,
        "source": article.source,
        "author": article.author,
        "published": article.published,
        "body": article.body,
        "attachments": [(link.url, link.name) for link in article.attachments],
        "images": [link.url for link in article.images],
    }


def truth(site: ReplicaSite, url_path: str) -> dict:
    a = site.article(url_path)
    return {
        "title": a.title,
        "source": a.source,
        "author": a.author,
        "published": a.published,
        "body": "\n".join(a.paragraphs),
        "attachments": [(f"http://{HOST}{f.url_path}", f.name) for f in a.attachments],
        "images": [f"http://{HOST}{f.url_path}" for f in a.images],
    }


@pytest.fixture(scope="module", params=["chalco", "member"])
def redesigned(request) -> ReplicaSite:
    return build_site(articles=40, flavour=request.param, template="redesign")


def test_same_site_same_truths_other_markup(redesigned):
    standard = build_site(articles=40, flavour=redesigned.flavour)
    assert redesigned.articles == standard.articles
    assert redesigned.list_pages == standard.list_pages
    path = redesigned.live_articles()[0].url_path
    new = redesigned.render(path, HOST)[2].decode("utf-8")
    old = standard.render(path, HOST)[2].decode("utf-8")
    assert 'class="xl-tit"' in new and "稿源" in new and "xl-tit" not in old
    assert "content-title" not in new and "TRS_Editor" not in new
    # Lists are unchanged: the crawl still finds every article.
    first_list = redesigned.list_paths(next(iter(redesigned.sections)))[0]
    assert redesigned.render(first_list, HOST) == standard.render(first_list, HOST)


def test_bundled_profile_misreads_every_article(redesigned):
    bundled = BUNDLED[redesigned.flavour]
    for article in redesigned.live_articles():
        got = fields(redesigned, article.url_path, bundled)
        want = truth(redesigned, article.url_path)
        assert got["title"] != want["title"]  # the banner's channel name
        assert got["published"] != want["published"]  # the CMS's PubDate
        if want["source"]:
            assert got["source"] is None


def test_fitted_profile_reads_every_article_exactly(redesigned):
    fitted = fitted_profile_toml(redesigned.flavour)
    for article in redesigned.live_articles():
        assert fields(redesigned, article.url_path, fitted) == truth(redesigned, article.url_path)


def test_template_can_be_switched_on_a_built_site():
    site = build_site(articles=40)
    path = site.live_articles()[0].url_path
    before = site.render(path, HOST)
    site.template = "redesign"
    after = site.render(path, HOST)
    assert before[2] != after[2] and before[1]["ETag"] != after[1]["ETag"]


def test_unknown_template_is_refused():
    with pytest.raises(ValueError, match="template must be one of"):
        build_site(template="nope")


def test_shown_date():
    assert shown_date("2026-02-03") == "2026年02月03日"
    assert shown_date("2024-09-30 15:27:51") == "2024年09月30日 15:27:51"


def test_replica_command_serves_the_redesign(monkeypatch):
    served = []

    def fake_sleep(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("replica.__main__.time.sleep", fake_sleep)
    monkeypatch.setattr(
        "replica.__main__.ReplicaServer.start", lambda self: served.append(self) or self
    )
    assert replica_main(["--template", "redesign", "--port", "0", "--articles", "40"]) == 0
    assert served[0].site.template == "redesign"
