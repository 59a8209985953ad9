"""Generating a replica: `build_site` (either flavour, either article template) and
`build_group` (the main site and a member site whose stories it shares)."""

from __future__ import annotations

from replica.site import ReplicaSite, redesign
from replica.site.chalco import ChalcoBuilder
from replica.site.flavours import FLAVOURS, MEMBER_MIN_ARTICLES, MIN_ARTICLES
from replica.site.member import MemberBuilder


def build_site(
    articles: int = 60,
    page_size: int = 5,
    seed: int = 2026,
    flavour: str = "chalco",
    template: str = "standard",
) -> ReplicaSite:
    """Generate the site: `articles` counts news and announcements together.

    flavour="chalco" is www.chalco.com.cn; flavour="member" a member site of the group
    with `articles` news articles under /xwzx/, the same as
    `build_group(seed, articles=60, member_articles=articles, page_size=page_size)[1]`
    (its shared stories republish articles of the default-sized chalco flavour).

    template="redesign" is the same site (articles, URLs, lists, truths) after a redesign
    of its article template (replica/site/redesign.py): the bundled profiles read its pages
    wrongly, `redesign.fitted_profile_toml(flavour)` reads them exactly. The template can
    also be switched on a built site (`site.template = "redesign"`), as on the day the
    live site changed.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}, got {flavour!r}")
    if template not in redesign.TEMPLATES:
        raise ValueError(
            f"template must be one of {', '.join(redesign.TEMPLATES)}, got {template!r}"
        )
    if flavour == "member":
        site = build_group(seed, articles=60, member_articles=articles, page_size=page_size)[1]
    else:
        if articles < MIN_ARTICLES:
            raise ValueError(f"articles must be at least {MIN_ARTICLES}, got {articles}")
        if page_size < 1:
            raise ValueError(f"page_size must be positive, got {page_size}")
        site = ChalcoBuilder(articles, page_size, seed).build()
    site.template = template
    return site


def build_group(
    seed: int = 2026, articles: int = 60, member_articles: int = 40, page_size: int = 5
) -> tuple[ReplicaSite, ReplicaSite]:
    """The main site (chalco flavour, as `build_site(articles, page_size, seed)`) and a
    member site (member flavour) whose shared stories republish main-site articles.

    The member site has `SHARED_STORIES` shared stories in 公司要闻, recorded in its
    `shared_stories` as (member url_path, chalco url_path): same title and paragraphs as
    the chalco article, other URL, other template, its own docid (above
    `MEMBER_DOCID_BASE`), except one that keeps the chalco docid and URL date.
    """
    main = build_site(articles=articles, page_size=page_size, seed=seed)
    if member_articles < MEMBER_MIN_ARTICLES:
        raise ValueError(
            f"member_articles must be at least {MEMBER_MIN_ARTICLES}, got {member_articles}"
        )
    return main, MemberBuilder(member_articles, page_size, seed, main).build()
