"""The site's later states: a day on, articles added on top, one edited, one removed, each
change recorded as a `LaterState` (`ReplicaSite.advance()`)."""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Callable

from replica.site.chrome import MEMBER_SHORT_NAME
from replica.site.flavours import ANNOUNCEMENTS, MEMBER_REDESIGN, MIRROR
from replica.site.state import ArticleLook, SiteState, reader_lines, related_item
from replica.site.truth import ArticleTruth, LaterState
from replica.text import Writer

# Title words an editor swaps when correcting a headline (first match wins).
_TITLE_SWAPS = (
    ("召开", "举行"),
    ("举行", "召开"),
    ("签署", "签订"),
    ("调研", "考察"),
    ("会见", "会晤"),
    ("开展", "启动"),
    ("顺利", "正式"),
    ("荣获", "获得"),
)


class SiteChanges(SiteState):
    """How the site moves on: `advance()` and the articles it picks by default."""

    def advance(
        self,
        *,
        new_articles: dict[str, int] | None = None,
        edit: str | None = None,
        remove: str | None = None,
        remove_status: int = 404,
    ) -> LaterState:
        """Move the site on by a day, in place: a running ReplicaServer serves it at once.

        With no arguments at all, applies the defaults: `DEFAULT_NEW_ARTICLES` (member
        flavour: `MEMBER_DEFAULT_NEW_ARTICLES`), an edit of `default_edit()` and a removal
        of `default_removal()`. Otherwise only what is given:
        - new_articles: {section: count}; text-only articles (no images, no attachments) in
          the flavour's ordinary template on top of those sections, docids and dates after
          everything on the site.
        - edit: url_path of a live article; one title word changes and a paragraph is
          appended; its Last-Modified moves to the new day, so its ETag changes too.
        - remove: url_path of a live article; it answers `remove_status` (404 or 410), leaves
          every list, and its images and attachments answer 404.
        Every other article page, file and untouched list page keeps its bytes, ETag and
        Last-Modified. Pages that related to a changed article keep their stale 相关新闻
        items, as static pages do. Records the result in `changes` and returns it.
        """
        if new_articles is None and edit is None and remove is None:
            new_articles = dict(self.profile.default_new)
            edit = self.default_edit()
            remove = self.default_removal()
        new_articles = dict(new_articles or {})
        for section, count in new_articles.items():
            if section not in self.sections:
                raise ValueError(f"unknown section: {section}")
            if count < 0:
                raise ValueError(f"negative article count for {section}: {count}")
        for path in (edit, remove):
            if path is not None and (
                path not in self._by_path or self._by_path[path].status != 200
            ):
                raise ValueError(f"not a live article: {path}")
        if edit is not None and edit == remove:
            raise ValueError(f"cannot both edit and remove {edit}")
        if remove_status not in (404, 410):
            raise ValueError(f"remove_status must be 404 or 410, got {remove_status}")

        day = self._next_day()
        rng = random.Random(f"{self.seed}:later:{len(self.changes)}")
        added = self._add_articles(new_articles, day, rng)
        before = None
        if edit is not None:
            before = copy.deepcopy(self._by_path[edit])
            self._edit(self._by_path[edit], day.replace(hour=11, minute=rng.randrange(60)))
        removed_files: list[str] = []
        if remove is not None:
            removed_files = self._remove(
                self._by_path[remove], remove_status, day.replace(hour=12, minute=rng.randrange(60))
            )
        self.reindex()
        state = LaterState(
            day=day.date().isoformat(),
            new_articles=sorted(added, key=lambda a: a.docid, reverse=True),
            edited=edit,
            edited_before=before,
            removed=remove,
            removed_files=removed_files,
        )
        self.changes.append(state)
        return state

    def default_edit(self) -> str:
        """The article `advance()` edits by default: the newest ordinary live 公司要闻
        article (the flavour's usual template, UTF-8, listed only there, no attachments,
        not the sample, a shared story nor any other special case, not added or edited by
        an earlier advance)."""
        return self._ordinary(self.profile.edit_section, lambda a: not a.attachments)

    def default_removal(self) -> str:
        """The article `advance()` removes by default: the newest ordinary live 高管动态
        (member flavour: 企业动态) article (listed only there, not special), preferring one
        without files."""
        section = self.profile.removal_section
        try:
            return self._ordinary(section, lambda a: not a.attachments and not a.images)
        except LookupError:
            return self._ordinary(section, lambda a: True)

    def _special_paths(self) -> set[str]:
        s = self.specials
        paths = {
            s.sample,
            s.missing,
            s.flaky,
            s.redirect_to,
            s.shared,
            s.disallowed,
            s.news_attachment,
            *s.legacy,
            *s.empty_source,
            *s.ascii_colon,
            *(member for member, _ in self.shared_stories),
        }
        if self.flavour == "chalco":
            paths.update(s.member)  # on chalco.com.cn the member template is the odd one
        shared_images = set(s.shared_image)
        paths.update(
            a.url_path for a in self.articles if any(f.url_path in shared_images for f in a.images)
        )
        for state in self.changes:
            paths.update(state.new_paths)
            paths.update(p for p in (state.edited, state.removed) if p)
        return paths

    def _ordinary(self, section: str, accept: Callable[[ArticleTruth], bool]) -> str:
        special = self._special_paths()
        for entry in self._entries[section]:
            a = self._by_path.get(entry.target)
            if (
                a is not None
                and not entry.verbatim
                and a.status == 200
                and a.sections == [section]
                and a.template == self.profile.template
                and a.encoding == "utf-8"
                and a.url_path not in special
                and accept(a)
            ):
                return a.url_path
        raise LookupError(f"no ordinary live article in {section}")

    def _add_articles(
        self, counts: dict[str, int], day: dt.datetime, rng: random.Random
    ) -> list[ArticleTruth]:
        writer = Writer()
        docid = max(
            [a.docid for a in self.articles]
            + [e.docid for extra in self._extras.values() for e in extra]
        )
        docid += 20  # a day of other channels and member sites taking ids
        moment = day
        added: list[ArticleTruth] = []
        for section, count in counts.items():
            # Newest live items of the section, for the new pages' 相关新闻.
            near = [
                self._by_path[e.target]
                for e in self._entries[section]
                if e.target in self._by_path and self._by_path[e.target].status == 200
            ][:2]
            for _ in range(count):
                docid += rng.randint(2, 12)
                moment += dt.timedelta(minutes=rng.randint(3, 25), seconds=rng.randrange(60))
                truth, look = self._new_article(writer, section, docid, moment, near, rng)
                self.articles.insert(0, truth)
                self._looks[truth.url_path] = look
                added.append(truth)
                near = [truth, *near][:2]
        self.articles.sort(key=lambda a: a.docid, reverse=True)
        return added

    def _new_article(
        self,
        writer: Writer,
        section: str,
        docid: int,
        created: dt.datetime,
        near: list[ArticleTruth],
        rng: random.Random,
    ) -> tuple[ArticleTruth, ArticleLook]:
        if self.flavour == "member":
            return self._new_member_article(writer, section, docid, created, near, rng)
        text_rng = random.Random(f"{self.seed}:{docid}")
        shown = created.date()
        if section == ANNOUNCEMENTS:
            story = writer.announcement(text_rng, shown)
            # Text-only: no attachment for the 具体内容详见附件 line to point at.
            story.paragraphs = [t for t in story.paragraphs if "附件" not in t]
        else:
            story = writer.news(text_rng, section, shown)
        url_path = f"/{section}/{created:%Y%m}/t{created:%Y%m%d}_{docid}.html"
        blocks: list[tuple[str, str, str | None]] = [("p", t, None) for t in story.paragraphs]
        original = None
        if section == "xwdt/mtgz":
            original = f"{MIRROR}/{created:%Y-%m/%d}/content_{docid}.htm"
        truth = ArticleTruth(
            url_path=url_path,
            docid=docid,
            sections=[section],
            title=story.title,
            source=story.source,
            author=None,
            published=shown.isoformat(),
            paragraphs=reader_lines(blocks),
            attachments=[],
            images=[],
            status=200,
            template="trs",
            encoding="utf-8",
            created=created.isoformat(),
        )
        look = ArticleLook(
            colon="：",
            paragraph_style=rng.choice(["indent", "indent", "ideographic", "span"]),
            published_raw=shown.isoformat(),
            blocks=blocks,
            modified=created + dt.timedelta(minutes=rng.randint(1, 30)),
            created=created,
            related=[related_item(t) for t in near],
            original=original,
        )
        return truth, look

    def _new_member_article(
        self,
        writer: Writer,
        section: str,
        docid: int,
        created: dt.datetime,
        near: list[ArticleTruth],
        rng: random.Random,
    ) -> tuple[ArticleTruth, ArticleLook]:
        """A text-only article in the member template, shown at its creation time."""
        text_rng = random.Random(f"{self.seed}:member:{docid}")
        story = writer.member_news(
            text_rng, section.split("/")[1], created.date(), MEMBER_SHORT_NAME
        )
        blocks: list[tuple[str, str, str | None]] = [("p", t, None) for t in story.paragraphs]
        truth = ArticleTruth(
            url_path=f"/{section}/{created:%Y%m}/t{created:%Y%m%d}_{docid}.html",
            docid=docid,
            sections=[section],
            title=story.title,
            source=story.source,
            author=writer.author(text_rng),
            published=created.isoformat(),
            paragraphs=reader_lines(blocks),
            attachments=[],
            images=[],
            status=200,
            template="member",
            encoding="utf-8",
            created=created.isoformat(),
        )
        look = ArticleLook(
            colon="：",
            paragraph_style=rng.choice(["mso", "indent", "ideographic"]),
            published_raw=created.strftime("%Y-%m-%d %H:%M:%S"),
            blocks=blocks,
            modified=created + dt.timedelta(minutes=rng.randint(1, 30)),
            created=created,
            related=[related_item(t) for t in near],
            logo_h1=created < MEMBER_REDESIGN,
        )
        return truth, look

    def _edit(self, truth: ArticleTruth, moment: dt.datetime) -> None:
        look = self._looks[truth.url_path]
        for old, new in _TITLE_SWAPS:
            if old in truth.title:
                truth.title = truth.title.replace(old, new, 1)
                break
        else:
            truth.title += "（更新）"
        note = (
            f"（{moment.month}月{moment.day}日更新）截至目前，"
            "上述各项工作正在有序推进，后续进展将持续报道。"
        )
        look.blocks = [*look.blocks, ("p", note, None)]
        look.modified = moment
        truth.paragraphs = reader_lines(look.blocks)
        for section in truth.sections:
            self._touched[section] = max(self._touched.get(section, moment), moment)

    def _remove(self, truth: ArticleTruth, status: int, moment: dt.datetime) -> list[str]:
        truth.status = status
        self._unlisted.add(truth.url_path)
        gone = [f.url_path for f in truth.attachments + truth.images if f.url_path in self._files]
        for path in gone:
            del self._files[path]
        for section in truth.sections:
            self._touched[section] = max(self._touched.get(section, moment), moment)
        return gone


def default_later_state(site: SiteChanges) -> LaterState:
    """Advance `site` in place with the defaults (same as `site.advance()`)."""
    return site.advance()
