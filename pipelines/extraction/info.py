"""The info line: 来源 (source), 时间 (the displayed time) and 作者 (author) after their labels,
from the profile's info selectors, else from the blocks whose line opens with a label."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from pipelines.extraction.page import LabelRules, Page, block_of, encloses, inside, owner_of
from pipelines.extraction.text import SKIP_TAGS, clean_line, text_lines

_DATETIME = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}\s*秒?)?)?"
)

# Other fields that share the info line; a value ends where one of them starts.
_INFO_STOP = re.compile(
    r"(?:点击数|点击量|点击|浏览次数|浏览量|浏览|阅读次数|阅读量|阅读|访问量|访问次数|字号|字体|分享到|"
    r"责任编辑|编辑|审核|摄影|通讯员|供稿|发布人)\s*[：:]|【|〖"
)
_VALUE_STRIP = " \t\r\n\u3000\xa0|丨｜/／]】）)"
_MAX_INFO_CHARS = 300

# Fields split over blocks sit side by side; looking further only costs time on odd pages.
_MAX_INFO_NEIGHBOURS = 6


@dataclass
class Info:
    line: str | None = None
    source: str | None = None
    time: str | None = None
    author: str | None = None
    elements: list[etree._Element] = field(default_factory=list)
    rule: str = ""
    stage: str = "labels"
    """The rule being applied: "selector:<css>" or "labels"; recorded in `origins`."""
    origins: dict[str, str] = field(default_factory=dict)
    """Per field (source, published, author), the rule and label that gave it."""

    def missing(self) -> bool:
        return self.source is None or self.time is None or self.author is None


def find_info(
    page: Page, title_node: etree._Element | None, body_node: etree._Element | None
) -> Info:
    info = Info()
    for selector in page.rules.info:
        for node in page.select(selector):
            if inside(node, page.boilerplate) or (title_node is not None and node is title_node):
                continue
            line = " ".join(text_lines(node))
            if not line or len(line) > _MAX_INFO_CHARS:
                continue
            info.stage = f"selector:{selector}"
            if _parse_info_line(line, page.labels, info) or _DATETIME.search(line):
                info.line, info.rule = line, f"selectors:{selector}"
                info.elements.append(node)
                break
        if info.line is not None:
            break
    if info.line is not None and info.time is None:
        found = _DATETIME.search(info.line)
        if found:
            info.time = clean_line(found.group(0))
            info.origins["published"] = f"{info.stage} date"
    info.stage = "labels"
    if info.line is None or info.missing():
        _info_from_labels(page, info, body_node)
    return info


def _parse_info_line(line: str, labels: LabelRules, info: Info) -> bool:
    """Fill the fields found in one line; True when any label was found."""
    matches = list(labels.anywhere.finditer(line))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(line)
        value = line[match.end() : end]
        kind = labels.kinds[match.group(1)]
        if kind == "time":
            if info.time is None:
                found = _DATETIME.search(value)
                value = found.group(0) if found else _cut_value(value)
                info.time = clean_line(value)
                _note_origin(info, "published", match.group(1))
        elif kind == "source" and info.source is None:
            info.source = _cut_value(value)
            _note_origin(info, "source", match.group(1))
        elif kind == "author" and info.author is None:
            info.author = _cut_value(value)
            _note_origin(info, "author", match.group(1))
    return bool(matches)


def _note_origin(info: Info, name: str, label: str) -> None:
    if info.stage == "labels":
        info.origins[name] = f"labels:{label}"
    else:
        info.origins[name] = f"{info.stage} label:{label}"


def _cut_value(value: str) -> str:
    stop = _INFO_STOP.search(value)
    if stop:
        value = value[: stop.start()]
    return clean_line(value).strip(_VALUE_STRIP)


def _info_from_labels(page: Page, info: Info, body_node: etree._Element | None) -> None:
    """Text rules: a block whose line opens with 来源/时间/作者, and its neighbours."""
    # Next to an info element a selector found, only its neighbours may add missing fields.
    preset = bool(info.elements)
    first_block: etree._Element | None = info.elements[0] if preset else None
    known = set(info.elements)
    body_head: list[str] | None = None
    seen: set[etree._Element] = set()
    lines: list[str] = []
    neighbours_left = _MAX_INFO_NEIGHBOURS
    for text in page.labels.text_xpath(page.root):
        owner = owner_of(text)
        if owner is None or inside(owner, page.boilerplate) or owner.tag in SKIP_TAGS:
            continue
        block = block_of(owner)
        if block in seen or inside(block, known) or any(encloses(block, k) for k in known):
            continue
        seen.add(block)
        if first_block is not None:
            if not _near(first_block, block):
                if preset:
                    continue
                break
            neighbours_left -= 1
            if neighbours_left < 0:
                break
        inside_body = body_node is not None and encloses(body_node, block)
        if inside_body and preset:
            continue
        if inside_body and body_head is None and body_node is not None:
            # A byline inside the body container opens it; "（作者：…）" at the end is body text.
            body_lines = text_lines(body_node, page.boilerplate)
            body_head = body_lines[:2] if len(body_lines) > 2 else body_lines[:1]
        for line in text_lines(block):
            if inside_body and line not in (body_head or ()):
                continue
            if len(line) <= _MAX_INFO_CHARS and page.labels.at_start.match(line):
                before = (info.source, info.time, info.author)
                _parse_info_line(line, page.labels, info)
                if (info.source, info.time, info.author) == before:
                    continue
                lines.append(line)
                if block not in info.elements:
                    info.elements.append(block)
                if first_block is None:
                    first_block = block
        if first_block is not None and not info.missing():
            break
    if lines:
        info.line = " ".join(([info.line] if info.line else []) + lines)
        info.rule = f"{info.rule}+labels" if info.rule else "labels"


def _near(first: etree._Element, other: etree._Element) -> bool:
    """Fields split over adjacent blocks share a parent or grandparent."""
    parents = [first.getparent()]
    if parents[0] is not None:
        parents.append(parents[0].getparent())
    return any(p is not None and encloses(p, other) for p in parents)
