"""Generating the member flavour: a member site of the 中铝网站群 (中州铝业), news under /xwzx/
in the member template, a docid block of its own, and stories republished from the main
site of the group."""

from __future__ import annotations

import datetime as dt
import random

from replica.site import ReplicaSite
from replica.site.chalco import ArticlePlan, ChalcoBuilder, counts_by_section
from replica.site.chrome import MEMBER_SHORT_NAME
from replica.site.files import file_truth
from replica.site.flavours import (
    MEMBER_DOCID_BASE,
    MEMBER_NEWS_SECTIONS,
    MEMBER_PRIVATE_TITLE,
    MEMBER_REDESIGN,
    NEWEST,
    NEWS_SECTIONS,
    SHARED_STORIES,
)
from replica.site.state import ArticleLook, ListEntry, reader_lines
from replica.site.truth import ArticleTruth, FileTruth, Specials
from replica.text import Story

_MEMBER_WEIGHTS = {"xwzx/gsyw": 0.40, "xwzx/qydt": 0.35, "xwzx/mtjj": 0.25}


class MemberBuilder(ChalcoBuilder):
    """A member site (中州铝业): news under /xwzx/, member template throughout, a docid
    block of its own above MEMBER_DOCID_BASE, and stories republished from `main`."""

    def __init__(self, articles: int, page_size: int, seed: int, main: ReplicaSite) -> None:
        super().__init__(articles, page_size, seed)
        self.rng = random.Random(f"{seed}:member")
        self.main = main
        self.specials = Specials(sample="", redirect_from="")

    def build(self) -> ReplicaSite:
        plans = self._plan(
            counts_by_section(self.n, self.page_size, _MEMBER_WEIGHTS, MEMBER_NEWS_SECTIONS)
        )
        self._assign_docids(plans)
        self._style(plans)
        by_section = {
            s: sorted(
                (p for p in plans if p.section == s),
                key=lambda p: (p.shown.date(), p.docid),
                reverse=True,
            )
            for s in MEMBER_NEWS_SECTIONS
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
        shared = sorted(
            (p for p in plans if p.origin is not None), key=lambda p: p.created, reverse=True
        )
        site = ReplicaSite(
            articles=truths,
            sections=dict(MEMBER_NEWS_SECTIONS),
            page_size=self.page_size,
            specials=self.specials,
            flaky_paths=set(),
            seed=self.seed,
            flavour="member",
            shared_stories=[
                (by_docid[p.docid].url_path, p.origin.url_path)
                for p in shared
                if p.origin is not None
            ],
            _looks=looks,
            _files=self.files,
        )
        self._add_extras(site, by_section, by_docid)
        site.reindex()
        return site

    def _origins(self) -> list[ArticleTruth]:
        """Main-site articles to republish: recent text-only 公司要闻 (then other news)
        pages, not the sample nor another deliberate hard case, and none that the main
        site's default later state edits or removes."""
        main = self.main
        s = main.specials
        avoid = {s.sample, s.missing, s.flaky, s.redirect_to, s.news_attachment}
        for default in (main.default_edit, main.default_removal):
            try:
                avoid.add(default())
            except LookupError:  # a small main site may have no ordinary article there
                pass
        candidates = [
            a
            for section in NEWS_SECTIONS
            for a in main.articles
            if a.sections == [section]
            and a.status == 200
            and a.encoding == "utf-8"
            and not a.images
            and not a.attachments
            and a.url_path not in avoid
        ]
        count = min(SHARED_STORIES, len(candidates))
        if count < 2:
            raise ValueError("the main site has too few plain articles to share")
        chosen = self.rng.sample(candidates[: max(count, 8)], count)
        return sorted(chosen, key=lambda a: a.docid, reverse=True)

    def _plan(self, counts: dict[str, int]) -> list[ArticlePlan]:
        rng = self.rng
        remaining = dict(counts)
        plans: list[ArticlePlan] = []
        origins = self._origins()
        same = len(origins) // 2
        for i, origin in enumerate(origins):
            created = dt.datetime.fromisoformat(origin.created)
            if i != same:
                # Republished a few hours to a day and a half after the main site.
                created += dt.timedelta(
                    hours=rng.randint(2, 36), minutes=rng.randrange(60), seconds=rng.randrange(60)
                )
            plan = ArticlePlan("xwzx/gsyw", "republish", created, template="member")
            plan.origin, plan.same_docid = origin, i == same
            plans.append(plan)
        remaining["xwzx/gsyw"] -= len(origins)
        labels = [s for s, c in remaining.items() for _ in range(c)]
        rng.shuffle(labels)
        mean_gap = min(2.0, 1800 / self.n)
        moment = NEWEST - dt.timedelta(minutes=rng.randint(30, 600))
        for label in labels:
            plans.append(
                ArticlePlan(label, "regular", moment.replace(microsecond=0), template="member")
            )
            moment -= dt.timedelta(days=rng.uniform(0.05, 2 * mean_gap - 0.05))
        return plans

    def _assign_docids(self, plans: list[ArticlePlan]) -> None:
        # The member site's own block of ids; steps of at least 2 leave docid + 1 free.
        running = MEMBER_DOCID_BASE
        ordered = sorted((p for p in plans if not p.same_docid), key=lambda p: p.created)
        previous = ordered[0].created
        for plan in ordered:
            days = (plan.created - previous).total_seconds() / 86400
            running += self.rng.randint(2, 9) + int(days * 3)
            plan.docid = running
            previous = plan.created
        for plan in plans:
            if plan.same_docid and plan.origin is not None:
                plan.docid = plan.origin.docid

    def _style(self, plans: list[ArticlePlan]) -> None:
        rng = self.rng
        for plan in plans:
            # Mostly released minutes after creation; some pages show an earlier day's time.
            lag = 0 if plan.kind == "republish" else rng.choices([0, 1, 2], [60, 30, 10])[0]
            if lag:
                plan.shown = (plan.created - dt.timedelta(days=lag)).replace(
                    hour=rng.randint(8, 21), minute=rng.randrange(60), second=rng.randrange(60)
                )
            else:
                plan.shown = plan.created + dt.timedelta(
                    minutes=rng.randint(2, 90), seconds=rng.randrange(60)
                )

    def _assign_roles(self, by_section: dict[str, list[ArticlePlan]]) -> None:
        def pick(section: str, k: int, role: str) -> None:
            free = [p for p in by_section[section] if p.kind == "regular" and not p.roles]
            free[min(k, len(free) - 1)].roles.add(role)

        pick("xwzx/gsyw", 0, "image")
        pick("xwzx/qydt", 1, "empty_source")
        pick("xwzx/mtjj", 0, "image")

    def _article(self, plan: ArticlePlan) -> tuple[ArticleTruth, ArticleLook]:
        rng = random.Random(f"{self.seed}:member:{plan.docid}")
        folder = f"/{plan.section}/{plan.created:%Y%m}/"
        url_path = f"{folder}t{plan.created:%Y%m%d}_{plan.docid}.html"
        origin = plan.origin
        if origin is not None:
            # A shared story: the main site's title and text; a quoted document (same
            # docid) keeps its source, a copy credits the main site.
            source = origin.source if plan.same_docid else "中铝股份"
            story = Story(origin.title, source, list(origin.paragraphs))
        else:
            story = self.writer.member_news(
                rng, plan.section.split("/")[1], plan.shown.date(), MEMBER_SHORT_NAME
            )
        modified = plan.created + dt.timedelta(minutes=rng.randint(3, 240))
        source = story.source
        if "empty_source" in plan.roles or (origin is None and rng.random() < 0.1):
            source = None
        colon = rng.choices(["：", ":", ": "], [80, 12, 8])[0]
        style = rng.choice(["mso", "indent", "ideographic"])

        blocks: list[tuple[str, str, str | None]] = [("p", text, None) for text in story.paragraphs]
        images: list[FileTruth] = []
        forced = "image" in plan.roles
        if origin is None and (forced or rng.random() < 0.4):
            count = 2 if rng.random() < 0.25 else 1
            at = 1 if rng.random() < 0.7 else rng.randint(1, len(blocks))
            for index in range(count):
                name, payload = self._image(plan, rng, index, shared=False)
                media_type = "image/jpeg" if name.endswith(".jpg") else "image/png"
                path = self._add_file(folder, name, payload, media_type, modified)
                images.append(file_truth(path, None, payload, media_type))
                caption = story.captions[index] if forced or rng.random() < 0.85 else None
                blocks.insert(at, ("img", name, caption))
                at += 1
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                blocks.insert(rng.randint(1, len(blocks)), ("blank", "", None))

        truth = ArticleTruth(
            url_path=url_path,
            docid=plan.docid,
            sections=[plan.section],
            title=story.title,
            source=source,
            author=self.writer.author(rng),
            published=plan.shown.isoformat(),
            paragraphs=reader_lines(blocks),
            attachments=[],
            images=images,
            status=200,
            template="member",
            encoding="utf-8",
            created=plan.created.isoformat(),
        )
        look = ArticleLook(
            colon=colon,
            paragraph_style=style,
            published_raw=plan.shown.strftime("%Y-%m-%d %H:%M:%S"),
            blocks=blocks,
            modified=modified,
            created=plan.created,
            related_offsite=rng.random() < 0.2,
            logo_h1=plan.created < MEMBER_REDESIGN,
        )
        self._note(plan, truth, colon)
        return truth, look

    def _add_extras(
        self,
        site: ReplicaSite,
        by_section: dict[str, list[ArticlePlan]],
        by_docid: dict[int, ArticleTruth],
    ) -> None:
        # A 公司要闻 item under a robots.txt Disallow, beside a recent item of the site's own.
        own = [p for p in by_section["xwzx/gsyw"] if not p.same_docid]
        anchor = by_docid[own[min(1, len(own) - 1)].docid]
        created = dt.datetime.fromisoformat(anchor.created)
        private = f"/xwzx/gsyw/nbzl/t{created:%Y%m%d}_{anchor.docid + 1}.html"
        site._private[private] = (MEMBER_PRIVATE_TITLE, created)
        site._extras.setdefault("xwzx/gsyw", []).append(
            ListEntry(private, MEMBER_PRIVATE_TITLE, anchor.published[:10], anchor.docid + 1)
        )
        self.specials.disallowed = private
