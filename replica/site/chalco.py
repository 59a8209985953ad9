"""Generating the chalco flavour: www.chalco.com.cn with the deliberate hard cases of
docs/site.md (the sample article, a listed 404, a page that fails once, the 301 of a legacy URL,
GB2312-labelled pages, an article in two sections, shared image bytes, off-site links)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from replica import media
from replica.site import ReplicaSite
from replica.site.files import file_truth
from replica.site.flavours import (
    ANNOUNCEMENTS,
    CST,
    MIRROR,
    NEWEST,
    NEWS_SECTIONS,
    OLD_URL,
    OLD_URL_SHOWN,
    SAMPLE_CREATED,
    SAMPLE_DOCID,
    SAMPLE_SHOWN,
    SECTIONS,
)
from replica.site.state import ArticleLook, ListEntry, ServedFile, reader_lines, related_item
from replica.site.truth import ArticleTruth, FileTruth, Specials
from replica.text import Story, Writer, load_sample

# Uneven shares, as on the live site where 公司要闻 publishes most.
_WEIGHTS = {
    "xwdt/gsyw": 0.30,
    "xwdt/ggdt": 0.18,
    "xwdt/qydt": 0.24,
    "xwdt/mtgz": 0.18,
    ANNOUNCEMENTS: 0.10,
}


def section_counts(articles: int, page_size: int) -> dict[str, int]:
    """Articles per section: largest remainder over _WEIGHTS, then news sections topped up."""
    return counts_by_section(articles, page_size, _WEIGHTS, NEWS_SECTIONS)


def counts_by_section(
    articles: int, page_size: int, weights: dict[str, float], news: dict[str, str]
) -> dict[str, int]:
    """Articles per section of `weights`: largest remainder, then each of `news` topped up."""
    raw = {s: articles * w for s, w in weights.items()}
    counts = {s: int(v) for s, v in raw.items()}
    for s in sorted(raw, key=lambda s: raw[s] - counts[s], reverse=True)[
        : articles - sum(counts.values())
    ]:
        counts[s] += 1
    # Three list pages per news section when the total allows it, so pagers get exercised.
    floor = 2 * page_size + 1
    for s in news:
        while counts[s] < floor:
            donor = max(counts, key=lambda d: counts[d])
            if counts[donor] <= floor:
                break
            counts[donor] -= 1
            counts[s] += 1
    return counts


@dataclass
class ArticlePlan:
    """One article before it is written: its section, kind, dates, docid and roles."""

    section: str
    kind: str
    """sample, regular, announcement, redirect, gb2312, gbk, migrated."""
    created: dt.datetime
    docid: int = 0
    shown: dt.datetime = NEWEST
    template: str = "trs"
    roles: set[str] = field(default_factory=set)
    origin: ArticleTruth | None = None
    """Member flavour: the chalco-flavour article a shared story republishes."""
    same_docid: bool = False
    """Member flavour: the shared story keeps the origin's docid (and its URL date)."""


class ChalcoBuilder:
    """Plans, writes and wires up the articles of one chalco-flavour site."""

    def __init__(self, articles: int, page_size: int, seed: int) -> None:
        self.n = articles
        self.page_size = page_size
        self.seed = seed
        self.rng = random.Random(seed)
        self.writer = Writer()
        self.files: dict[str, ServedFile] = {}
        self.specials = Specials()
        self.shared_payload = media.jpeg(seed * 7919 + 1)

    def build(self) -> ReplicaSite:
        plans = self._plan(section_counts(self.n, self.page_size))
        self._assign_docids(plans)
        self._style(plans)
        by_section = {
            s: sorted(
                (p for p in plans if p.section == s),
                key=lambda p: (p.shown.date(), p.docid),
                reverse=True,
            )
            for s in SECTIONS
        }
        self._assign_roles(by_section)

        truths: list[ArticleTruth] = []
        looks: dict[str, ArticleLook] = {}
        by_docid: dict[int, ArticleTruth] = {}
        for plan in sorted(plans, key=lambda p: p.docid, reverse=True):
            truth, look = self._article(plan)
            truths.append(truth)
            looks[truth.url_path] = look
            by_docid[plan.docid] = truth
        self._relate(by_section, by_docid, looks)

        site = ReplicaSite(
            articles=truths,
            sections=dict(SECTIONS),
            page_size=self.page_size,
            specials=self.specials,
            flaky_paths={self.specials.flaky},
            seed=self.seed,
            _looks=looks,
            _files=self.files,
        )
        self._add_extras(site, by_section, by_docid)
        site.reindex()
        return site

    def _plan(self, counts: dict[str, int]) -> list[ArticlePlan]:
        rng = self.rng
        remaining = dict(counts)
        plans = [ArticlePlan("xwdt/gsyw", "sample", SAMPLE_CREATED)]
        remaining["xwdt/gsyw"] -= 1
        migrated = [("xwdt/gsyw", "redirect"), ("xwdt/gsyw", "gb2312"), ("xwdt/qydt", "gbk")]
        for i in range(self.n // 150):
            migrated.append(
                (("xwdt/gsyw", "xwdt/qydt")[i % 2], "gb2312" if i % 3 == 2 else "migrated")
            )
        for section, kind in migrated:
            remaining[section] -= 1
            # The 2020 move to TRS re-created old pages: URL dates in December 2020.
            created = dt.datetime(
                2020,
                12,
                rng.randint(14, 18),
                rng.randint(9, 17),
                rng.randrange(60),
                rng.randrange(60),
                tzinfo=CST,
            )
            plans.append(ArticlePlan(section, kind, created))
        labels = [s for s, c in remaining.items() for _ in range(c)]
        rng.shuffle(labels)
        mean_gap = min(1.2, 1800 / self.n)  # days; keeps every regular article after 2020
        moment = NEWEST
        for label in labels:
            kind = "announcement" if label == ANNOUNCEMENTS else "regular"
            plans.append(ArticlePlan(label, kind, moment.replace(microsecond=0)))
            moment -= dt.timedelta(days=rng.uniform(0.05, 2 * mean_gap - 0.05))
        return plans

    def _assign_docids(self, plans: list[ArticlePlan]) -> None:
        mean = max(3, min(20, 100_000 // self.n))
        running = 0
        ordered = sorted(plans, key=lambda p: p.created)
        previous = ordered[0].created
        for plan in ordered:
            # Other channels and member sites take the ids in between, about 20 a day.
            days = (plan.created - previous).total_seconds() / 86400
            running += self.rng.randint(2, 2 * mean - 2) + int(days * 20)
            plan.docid = running
            previous = plan.created
        sample = next(p for p in plans if p.kind == "sample")
        shift = SAMPLE_DOCID - sample.docid
        for plan in plans:
            plan.docid += shift
        if ordered[0].docid <= 0:
            raise ValueError(f"too many articles for docids below {SAMPLE_DOCID}: {self.n}")

    def _style(self, plans: list[ArticlePlan]) -> None:
        rng = self.rng
        for plan in plans:
            if plan.kind == "gbk" or (
                plan.kind == "regular" and plan.section == "xwdt/qydt" and rng.random() < 0.5
            ):
                plan.template = "member"
            elif plan.kind == "regular" and plan.section == "xwdt/mtgz" and rng.random() < 0.2:
                plan.template = "member"
        if not any(p.template == "member" and p.kind == "regular" for p in plans):
            next(
                p for p in plans if p.kind == "regular" and p.section == "xwdt/qydt"
            ).template = "member"
        for plan in plans:
            if plan.kind == "sample":
                shown = SAMPLE_SHOWN
            elif plan.kind == "redirect":
                shown = OLD_URL_SHOWN
            elif plan.kind in ("gb2312", "gbk", "migrated"):
                shown = dt.datetime(2016, 1, 4, tzinfo=CST) + dt.timedelta(days=rng.randrange(1450))
            else:
                # SITE.md: the displayed date is often 1-3 days before the URL (creation) date.
                lag = rng.choices([0, 1, 2, 3], weights=[45, 30, 15, 10])[0]
                shown = plan.created - dt.timedelta(days=lag)
            if plan.template == "member":
                shown = shown.replace(
                    hour=rng.randint(8, 21), minute=rng.randrange(60), second=rng.randrange(60)
                )
            else:
                shown = shown.replace(hour=0, minute=0, second=0)
            plan.shown = shown

    def _assign_roles(self, by_section: dict[str, list[ArticlePlan]]) -> None:
        def pick(section: str, k: int, role: str, kind: str = "regular") -> None:
            free = [p for p in by_section[section] if p.kind == kind and not p.roles]
            free[min(k, len(free) - 1)].roles.add(role)

        pick("xwdt/gsyw", 0, "offsite_related")
        pick("xwdt/gsyw", 1, "shared")
        pick("xwdt/gsyw", 1, "image_a")
        pick("xwdt/gsyw", 1, "news_attachment")
        pick("xwdt/ggdt", 0, "ascii_colon")
        pick("xwdt/ggdt", 1, "missing")
        pick("xwdt/ggdt", 1, "empty_source")
        pick("xwdt/qydt", 1, "flaky")
        pick("xwdt/qydt", 1, "image_b")
        pick(ANNOUNCEMENTS, 0, "two_attachments", kind="announcement")

    def _image(
        self, plan: ArticlePlan, rng: random.Random, index: int, shared: bool
    ) -> tuple[str, bytes]:
        ext = "jpg" if shared or rng.random() < 0.6 else "png"
        if shared:
            payload = self.shared_payload
        elif ext == "jpg":
            payload = media.jpeg(self.seed * 1_000_003 + plan.docid * 8 + index)
        else:
            payload = media.png(self.seed * 1_000_003 + plan.docid * 8 + index)
        return f"W0{plan.created:%Y%m%d}{rng.randrange(10**11, 10**12)}.{ext}", payload

    def _add_file(
        self, folder: str, name: str, payload: bytes, media_type: str, modified: dt.datetime
    ) -> str:
        path = folder + name
        if path in self.files:
            raise ValueError(f"file name collision: {path}")
        self.files[path] = ServedFile(media_type, payload, modified)
        return path

    def _article(self, plan: ArticlePlan) -> tuple[ArticleTruth, ArticleLook]:
        rng = random.Random(f"{self.seed}:{plan.docid}")
        folder = f"/{plan.section}/{plan.created:%Y%m}/"
        url_path = f"{folder}t{plan.created:%Y%m%d}_{plan.docid}.html"
        shown_date = plan.shown.date()
        story = self._story(plan, rng, shown_date)
        modified = plan.created + dt.timedelta(minutes=rng.randint(3, 240))
        sections = [plan.section] + (["xwdt/ggdt"] if "shared" in plan.roles else [])

        source = story.source
        if "empty_source" in plan.roles or (plan.kind == "regular" and rng.random() < 0.08):
            source = None
        if plan.kind == "sample":
            colon, style = "：", "indent"
        else:
            colon = (
                ":"
                if "ascii_colon" in plan.roles
                else rng.choices(["：", ":", ": "], [75, 15, 10])[0]
            )
            styles = (
                ["mso", "indent", "ideographic"]
                if plan.template == "member"
                else ["indent", "indent", "ideographic", "span"]
            )
            style = rng.choice(styles)

        blocks: list[tuple[str, str, str | None]] = [("p", text, None) for text in story.paragraphs]
        images: list[FileTruth] = []
        gone = "missing" in plan.roles  # a removed page takes its files with it
        wants_images = (
            "image_a" in plan.roles
            or "image_b" in plan.roles
            or (plan.kind not in ("sample", "announcement") and rng.random() < 0.35 and not gone)
        )
        if wants_images:
            count = 2 if rng.random() < 0.2 else 1
            at = 1 if rng.random() < 0.7 else rng.randint(1, len(blocks))
            for index in range(count):
                shared = index == 0 and bool(plan.roles & {"image_a", "image_b"})
                name, payload = self._image(plan, rng, index, shared)
                media_type = "image/jpeg" if name.endswith(".jpg") else "image/png"
                path = self._add_file(folder, name, payload, media_type, modified)
                images.append(file_truth(path, None, payload, media_type))
                caption = story.captions[index] if rng.random() < 0.85 else None
                blocks.insert(at, ("img", name, caption))
                at += 1
                if shared:
                    self.specials.shared_image.append(path)
        if plan.kind != "sample" and rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                blocks.insert(rng.randint(1, len(blocks)), ("blank", "", None))

        attachments = []
        names: list[str] = []
        if plan.kind == "announcement":
            names.append(f"{story.title}.pdf")
            if rng.random() < 0.2 or "two_attachments" in plan.roles:
                names.append(rng.choice(["独立非执行董事意见.pdf", f"{story.title}（英文版）.pdf"]))
        elif "news_attachment" in plan.roles or (
            plan.kind == "regular" and rng.random() < 0.04 and not gone
        ):
            names.append(self.writer.attachment_name(rng, story.title))
        for name in names:
            stem = f"P0{plan.created:%Y%m%d}{rng.randrange(10**11, 10**12)}"
            payload = media.pdf(
                name.removesuffix(".pdf"),
                ["Aluminum Corporation of China Limited", stem, f"docid {plan.docid}"],
            )
            path = self._add_file(folder, stem + ".pdf", payload, "application/pdf", modified)
            attachments.append(file_truth(path, name, payload, "application/pdf"))

        if plan.template == "member":
            published = plan.shown.isoformat()
            published_raw = plan.shown.strftime("%Y-%m-%d %H:%M:%S")
            author: str | None = self.writer.author(rng)
        else:
            published = shown_date.isoformat()
            published_raw = published
            author = None
        encoding = plan.kind if plan.kind in ("gb2312", "gbk") else "utf-8"
        original = None
        if plan.section == "xwdt/mtgz":
            original = f"{MIRROR}/{plan.created:%Y-%m/%d}/content_{plan.docid}.htm"

        truth = ArticleTruth(
            url_path=url_path,
            docid=plan.docid,
            sections=sections,
            title=story.title,
            source=source,
            author=author,
            published=published,
            paragraphs=reader_lines(blocks),
            attachments=attachments,
            images=images,
            status=404 if "missing" in plan.roles else 200,
            template=plan.template,
            encoding=encoding,
            created=plan.created.isoformat(),
        )
        look = ArticleLook(
            colon=colon,
            paragraph_style=style,
            published_raw=published_raw,
            blocks=blocks,
            modified=modified,
            created=plan.created,
            related_offsite="offsite_related" in plan.roles or rng.random() < 0.25,
            original=original,
        )
        self._note(plan, truth, colon)
        return truth, look

    def _story(self, plan: ArticlePlan, rng: random.Random, shown: dt.date) -> Story:
        if plan.kind == "sample":
            sample = load_sample()
            return Story(sample.title, sample.source, list(sample.paragraphs))
        if plan.kind == "redirect":
            return self.writer.year_end_meeting(rng, shown)
        if plan.kind in ("gb2312", "gbk"):
            return self.writer.legacy(rng, shown, in_title=plan.kind == "gb2312")
        if plan.kind == "announcement":
            return self.writer.announcement(rng, shown)
        return self.writer.news(rng, plan.section, shown)

    def _note(self, plan: ArticlePlan, truth: ArticleTruth, colon: str) -> None:
        s = self.specials
        path = truth.url_path
        if "missing" in plan.roles:
            s.missing = path
        if "flaky" in plan.roles:
            s.flaky = path
        if "shared" in plan.roles:
            s.shared = path
        if "news_attachment" in plan.roles:
            s.news_attachment = path
        if plan.kind == "redirect":
            s.redirect_to = path
        if truth.encoding != "utf-8":
            s.legacy.append(path)
        if truth.template == "member":
            s.member.append(path)
        if truth.source is None:
            s.empty_source.append(path)
        if colon.strip() == ":":
            s.ascii_colon.append(path)

    def _relate(
        self,
        by_section: dict[str, list[ArticlePlan]],
        by_docid: dict[int, ArticleTruth],
        looks: dict[str, ArticleLook],
    ) -> None:
        for plans in by_section.values():
            live = [by_docid[p.docid] for p in plans if by_docid[p.docid].status == 200]
            for i, truth in enumerate(live):
                near = live[max(0, i - 2) : i] + live[i + 1 : i + 3]
                looks[truth.url_path].related = [related_item(t) for t in near]

    def _add_extras(
        self,
        site: ReplicaSite,
        by_section: dict[str, list[ArticlePlan]],
        by_docid: dict[int, ArticleTruth],
    ) -> None:
        # A 公司要闻 item under a robots.txt Disallow, beside the second newest item.
        anchor = by_docid[by_section["xwdt/gsyw"][1].docid]
        created = dt.datetime.fromisoformat(anchor.created)
        # Same depth as an article folder, so the template's relative links still resolve.
        private = f"/xwdt/gsyw/private/t{created:%Y%m%d}_{anchor.docid + 1}.html"
        site._private[private] = ("关于做好内部资料管理工作的通知", created)
        site._extras.setdefault("xwdt/gsyw", []).append(
            ListEntry(
                private, "关于做好内部资料管理工作的通知", anchor.published[:10], anchor.docid + 1
            )
        )
        self.specials.disallowed = private
        # 媒体关注 lists a copy on a mirror site at its top.
        top = by_docid[by_section["xwdt/mtgz"][0].docid]
        mirror = f"{MIRROR}{top.url_path}"
        site._extras.setdefault("xwdt/mtgz", []).append(
            ListEntry(
                mirror, f"【转载】{top.title}", top.published[:10], top.docid + 1, verbatim=True
            )
        )
        self.specials.mirror_item = mirror
        # The migrated year-end page is listed under its pre-TRS URL.
        site._list_hrefs[self.specials.redirect_to] = OLD_URL
