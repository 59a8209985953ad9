"""Chinese news text for the replica, made from the sample article and a vocabulary."""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# sample-article.txt was copied with these folded to ASCII; the live page has full-width.
_UNFOLD = str.maketrans({",": "，", ":": "：", "(": "（", ")": "）"})
# Real executives named in the sample: reused sentences get fictional names instead.
_SAMPLE_SPEAKERS = ("何文建", "张瑞忠", "毛世清")
_SAMPLE_OTHERS = ("许峰", "芦东", "马征", "朱丹")
# Characters outside GB2312 (镕 is GBK only; 䶮 and 𠮷 are GB18030 only) for legacy pages.
LEGACY_SENTENCE = "老劳模王镕、技术骨干刘䶮和青年突击队队长𠮷祥东分别作交流发言。"
LEGACY_TITLE_NAME = "王镕"


@dataclass(frozen=True)
class SampleArticle:
    """The real 公司要闻 page of sample-article.txt, as SITE.md says it should be read."""

    title: str
    source: str
    published: str
    paragraphs: list[str]


@dataclass
class Story:
    """Text of one generated article before it is laid out."""

    title: str
    source: str | None
    paragraphs: list[str]
    captions: list[str] = field(default_factory=list)
    author: str | None = None


@functools.cache
def load_sample() -> SampleArticle:
    raw = (DATA_DIR / "sample-article.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    # Layout of the copy: site-group bar, channel label, title, 来源/时间 line, body, 附件, footer.
    meta = re.fullmatch(r"来源[:：]\s*(.*?)时间[:：]\s*(\S+)", lines[3])
    if meta is None:
        raise ValueError(f"unexpected 来源/时间 line in sample-article.txt: {lines[3]!r}")
    end = next(i for i, line in enumerate(lines) if line.startswith("附件"))
    return SampleArticle(
        title=lines[2],
        source=meta.group(1),
        published=meta.group(2),
        paragraphs=[line.translate(_UNFOLD) for line in lines[4:end]],
    )


@functools.cache
def load_vocab() -> dict[str, list[str]]:
    vocab: dict[str, list[str]] = json.loads((DATA_DIR / "vocab.json").read_text(encoding="utf-8"))
    return vocab


def _month_day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


class Writer:
    """Writes titles and bodies in the register of the sample article."""

    def __init__(self) -> None:
        self.v = load_vocab()
        sample = load_sample()
        sentences: list[str] = []
        for paragraph in sample.paragraphs[1:-1]:
            for sentence in re.findall(r"[^。]+。", paragraph):
                if any(name in sentence for name in _SAMPLE_OTHERS) or len(sentence) > 140:
                    continue
                sentences.append(sentence)
        self.sample_sentences = sentences

    def _pick(self, rng: random.Random, key: str) -> str:
        return rng.choice(self.v[key])

    def _clauses(self, rng: random.Random, count: int) -> str:
        return "，".join(rng.sample(self.v["clauses"], count))

    def _reuse(self, rng: random.Random, speaker: str) -> str:
        sentence = rng.choice(self.sample_sentences)
        others = [p for p in self.v["people"] if p != speaker]
        for name in _SAMPLE_SPEAKERS:
            sentence = sentence.replace(name, speaker if name == "何文建" else rng.choice(others))
        return sentence

    def _middle(self, rng: random.Random, speaker: str, company: str, shown: dt.date) -> str:
        kind = rng.random()
        # The sample's sentences speak of 2025/2026; older pages must not borrow them.
        if kind < 0.35 and shown.year >= 2025:
            return "".join(self._reuse(rng, speaker) for _ in range(rng.randint(1, 2)))
        if kind < 0.5:
            return (
                f"{speaker}指出，{self._clauses(rng, 2)}。"
                f"{speaker}强调，要{self._clauses(rng, 3)}。"
            )
        if kind < 0.62:
            return f"会议要求，各单位要{self._clauses(rng, 2)}，确保全年目标任务圆满完成。"
        if kind < 0.74:
            year = shown.year - rng.choice([0, 1])
            return (
                f"据介绍，{year}年以来，{company}{self._pick(rng, 'achievements')}，"
                f"{self._clauses(rng, 1)}取得新成效。"
            )
        if kind < 0.86:
            first, second, third = rng.sample(self.v["clauses"], 3)
            return f"一是{first}；二是{second}；三是{third}。"
        project = self._pick(rng, "projects")
        return (
            f"据了解，{project}总投资约{rng.randint(3, 90)}亿元，建成后可年产"
            f"{self._pick(rng, 'products')}{rng.randint(5, 120)}万吨。"
        )

    def _body(
        self, rng: random.Random, lead: str, speaker: str, company: str, event: str, shown: dt.date
    ) -> list[str]:
        count = rng.randint(2, 8) if rng.random() < 0.9 else rng.randint(10, 16)
        middle = [self._middle(rng, speaker, company, shown) for _ in range(count)]
        closing = f"{company}领导班子成员、{self._pick(rng, 'departments')}有关负责人参加{event}。"
        return [lead, *middle, closing]

    def captions(self, rng: random.Random, company: str) -> list[str]:
        return [
            rng.choice([c, f"图为{c}", f"{company}{c}"]) for c in rng.sample(self.v["captions"], 2)
        ]

    def news(self, rng: random.Random, section: str, shown: dt.date) -> Story:
        company = self._pick(rng, "companies")
        speaker = self._pick(rng, "people")
        role = self._pick(rng, "roles")
        place = self._pick(rng, "places")
        when = _month_day(shown)
        source: str | None = rng.choice(
            ["党委宣传部", "党委宣传部", self._pick(rng, "departments")]
        )
        if section == "xwdt/ggdt":
            target = self._pick(rng, "companies")
            if rng.random() < 0.5:
                title = f"{speaker}赴{target}调研"
                lead = (
                    f"{when}，中铝股份{role}{speaker}赴{target}调研，实地察看"
                    f"{self._pick(rng, 'projects')}建设情况，听取{target}工作汇报。"
                )
                event = "调研"
            else:
                partner = self._pick(rng, "partners")
                title = f"{speaker}会见{partner}客人"
                lead = (
                    f"{when}，中铝股份{role}{speaker}在{place}会见{partner}一行，"
                    "双方就深化合作进行交流。"
                )
                event = "会见"
            company = target
        elif section == "xwdt/qydt":
            source = company
            if rng.random() < 0.5:
                achievement = self._pick(rng, "achievements")
                title = f"{company}{achievement}"
                lead = f"近日，从{company}传来消息，{company}{achievement}。"
                event = "相关工作"
            else:
                activity = self._pick(rng, "activities")
                title = f"{company}开展{activity}"
                lead = (
                    f"{when}，{company}组织开展{activity}，{rng.randint(2, 30)}0余名干部职工参加。"
                )
                event = "活动"
        elif section == "xwdt/mtgz":
            media = self._pick(rng, "media")
            headline = self._pick(rng, "headlines")
            source = media
            title = f"{company}：{headline}"
            lead = (
                f"近日，{media}以《{headline}》为题，"
                f"报道了{company}{self._clauses(rng, 1)}的做法和成效。"
            )
            event = "相关工作"
        else:
            choice = rng.random()
            if choice < 0.4:
                meeting = self._pick(rng, "meetings")
                title = f"{company}召开{shown.year}年{meeting}"
                lead = (
                    f"{when}，{company}{shown.year}年{meeting}在{place}召开。"
                    f"会议{self._clauses(rng, 3)}。"
                )
                event = "会议"
            elif choice < 0.65:
                partner = self._pick(rng, "partners")
                agreement = self._pick(rng, "agreements")
                title = f"中铝股份与{partner}签署{agreement}"
                lead = (
                    f"{when}，中铝股份与{partner}在{place}签署{agreement}。"
                    f"中铝股份{role}{speaker}出席签约仪式并致辞。"
                )
                event = "签约仪式"
            else:
                project = self._pick(rng, "projects")
                milestone = self._pick(rng, "milestones")
                title = f"{company}{project}{milestone}"
                lead = (
                    f"近日，{company}{project}{milestone}，"
                    f"标志着{company}{self._clauses(rng, 1)}迈出坚实一步。"
                )
                event = "相关工作"
        return Story(
            title=title,
            source=source,
            paragraphs=self._body(rng, lead, speaker, company, event, shown),
            captions=self.captions(rng, company),
        )

    def member_news(self, rng: random.Random, channel: str, shown: dt.date, company: str) -> Story:
        """News of a member site: `channel` is gsyw (公司要闻), qydt (企业动态) or mtjj (媒体聚焦),
        `company` the member's short name (中州铝业)."""
        speaker = self._pick(rng, "people")
        role = self._pick(rng, "roles")
        place = self._pick(rng, "member_places")
        when = _month_day(shown)
        source: str | None = rng.choice(["党委工作部", "党委工作部", "办公室", "工会"])
        if channel == "qydt":
            unit = self._pick(rng, "member_units")
            source = unit
            if rng.random() < 0.5:
                achievement = self._pick(rng, "achievements")
                title = f"{unit}{achievement}"
                lead = f"近日，{company}{unit}{achievement}。"
            else:
                activity = self._pick(rng, "activities")
                title = f"{unit}开展{activity}"
                lead = f"{when}，{unit}组织开展{activity}，{rng.randint(2, 30)}0余名职工参加。"
            event = "活动"
        elif channel == "mtjj":
            media = self._pick(rng, "media")
            headline = self._pick(rng, "headlines")
            source = media
            title = f"【{media}】{company}：{headline}"
            lead = (
                f"近日，{media}以《{headline}》为题，"
                f"报道了{company}{self._clauses(rng, 1)}的做法和成效。"
            )
            event = "相关工作"
        else:
            choice = rng.random()
            if choice < 0.45:
                meeting = self._pick(rng, "meetings")
                title = f"{company}召开{shown.year}年{meeting}"
                lead = (
                    f"{when}，{company}{shown.year}年{meeting}在{place}召开。"
                    f"会议{self._clauses(rng, 3)}。"
                )
                event = "会议"
            elif choice < 0.7:
                partner = self._pick(rng, "partners")
                title = f"{company}与{partner}开展交流座谈"
                lead = (
                    f"{when}，{partner}一行到{company}交流座谈。"
                    f"{company}{role}{speaker}参加座谈并介绍公司生产经营情况。"
                )
                event = "座谈"
            else:
                project = self._pick(rng, "projects")
                milestone = self._pick(rng, "milestones")
                title = f"{company}{project}{milestone}"
                lead = (
                    f"近日，{company}{project}{milestone}，"
                    f"标志着{company}{self._clauses(rng, 1)}迈出坚实一步。"
                )
                event = "相关工作"
        return Story(
            title=title,
            source=source,
            paragraphs=self._body(rng, lead, speaker, company, event, shown),
            captions=self.captions(rng, company),
        )

    def legacy(self, rng: random.Random, shown: dt.date, in_title: bool) -> Story:
        """A migrated page whose text needs characters outside GB2312."""
        company = self._pick(rng, "companies")
        speaker = self._pick(rng, "people")
        if in_title:
            title = f"{company}举行{LEGACY_TITLE_NAME}劳模创新工作室揭牌仪式"
            lead = (
                f"{_month_day(shown)}，{company}{LEGACY_TITLE_NAME}劳模创新工作室揭牌仪式"
                f"在{self._pick(rng, 'places')}举行。"
            )
        else:
            activity = self._pick(rng, "activities")
            title = f"{company}开展{activity}"
            lead = f"{_month_day(shown)}，{company}组织开展{activity}。"
        body = self._body(rng, lead, speaker, company, "活动", shown)
        body.insert(1, LEGACY_SENTENCE)
        return Story(
            title=title, source=company, paragraphs=body, captions=self.captions(rng, company)
        )

    def year_end_meeting(self, rng: random.Random, shown: dt.date) -> Story:
        """The migrated 2016 page that an old /zgly/ URL redirects to."""
        speaker = self._pick(rng, "people")
        title = f"中铝公司召开{shown.year + 1}年工作会议"
        lead = (
            f"{_month_day(shown)}，中铝公司{shown.year + 1}年工作会议在北京召开。"
            f"会议{self._clauses(rng, 3)}。"
        )
        body = self._body(rng, lead, speaker, "中铝公司", "会议", shown)
        return Story(
            title=title, source="中铝公司", paragraphs=body, captions=self.captions(rng, "中铝公司")
        )

    def announcement(self, rng: random.Random, shown: dt.date) -> Story:
        template = self._pick(rng, "announcements")
        if "半年度" in template:
            year = shown.year if shown.month >= 8 else shown.year - 1
        elif "季度" in template:
            year = shown.year if shown.month >= 4 else shown.year - 1
        else:
            year = shown.year - 1 if "年度" in template else shown.year
        title = template.format(year=year, n=rng.randint(1, 12))
        if "H股" in title or "海外" in title:
            first = "本公告乃根据《香港联合交易所有限公司证券上市规则》第13.10B条作出。"
        else:
            first = (
                "中国铝业股份有限公司（以下简称“公司”）董事会及全体董事保证本公告内容不存在任何虚假记载、"
                "误导性陈述或者重大遗漏，并对其内容的真实性、准确性和完整性承担法律责任。"
            )
        paragraphs = [
            first,
            "具体内容详见附件。",
            "特此公告。",
            "中国铝业股份有限公司董事会",
            f"{shown.year}年{shown.month}月{shown.day}日",
        ]
        return Story(title=title, source="中国铝业股份有限公司", paragraphs=paragraphs)

    def author(self, rng: random.Random) -> str:
        names = rng.sample(self.v["authors"], rng.choice([1, 1, 1, 2]))
        return "、".join(names)

    def attachment_name(self, rng: random.Random, title: str) -> str:
        return rng.choice([f"{title}.pdf", f"{self._pick(rng, 'projects')}实施方案.pdf"])
