"""What a probe saw, judged against the profile: what fits, what the profile did not foresee
(a warning: exit 1), what is known to vary on the site (a note), as text or JSON.

Pure functions of the probe_spider dataclasses, testable without a crawl.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from chalco_crawler.discovery import is_article_url
from chalco_crawler.probe_spider import ArticleSample, SectionProbe, SiteProbe
from chalco_crawler.profile import SiteProfile

EXIT_FITS = 0
EXIT_MISFIT = 1
EXIT_USAGE = 4
EXIT_UNREACHABLE = 5

WARN = "warn"
NOTE = "note"
FIELDS = ("title", "source", "published", "author", "body", "attachments", "images")
# Rules that are a profile's own (selectors, then its labels); anything else is a fallback.
_OWN_RULES = ("selector:", "labels:")
_META_SELECTOR = "selector:meta"


@dataclass(frozen=True)
class Flag:
    level: str
    """warn (the profile did not foresee it: exit 1) or note (seen on the site, handled)."""
    where: str
    """`site`, a section path, or an article URL."""
    message: str


def judge(probe: SiteProbe, profile: SiteProfile) -> list[Flag]:
    """Every warning and note about one site, site first, then section by section."""
    flags: list[Flag] = []

    def add(level: str, where: str, message: str) -> None:
        flags.append(Flag(level, where, message))

    if not probe.reachable:
        return [Flag(WARN, "site", f"the site cannot be reached: {probe.error}")]
    if probe.challenge:
        add(WARN, "site", f"the home page is a challenge page, not content: {probe.challenge}")
        return flags
    if probe.error:
        add(WARN, "site", f"the home page could not be read: {probe.error}")
    _judge_roots(probe, profile, add)
    if not probe.sections:
        add(WARN, "site", "no sections to crawl")
    if any(s.origin == "fallback" for s in probe.sections):
        add(
            WARN,
            "site",
            "no news sections found in the navigation nor on the news root pages: the crawl"
            " would take the profile's fallback sections only",
        )
    skipped = [s.path for s in probe.sections if s.skipped]
    if skipped or probe.budget_refused or probe.articles_not_sampled:
        add(
            NOTE,
            "site",
            f"the probe's budget of {probe.budget} requests was spent"
            + (f"; sections not sampled: {', '.join(skipped)}" if skipped else "")
            + (
                f"; {probe.articles_not_sampled} article(s) left out"
                if probe.articles_not_sampled
                else ""
            ),
        )
    for section in probe.sections:
        _judge_section(section, profile, add)
    _judge_selectors(probe, profile, add)
    return flags


def _judge_roots(probe: SiteProbe, profile: SiteProfile, add: Any) -> None:
    labels = ", ".join(profile.news_root_labels) or "no label"
    for root in probe.roots:
        if not root.linked:
            add(
                WARN,
                "site",
                f"news root {root.path}/ ({labels}) is not linked from the home page's navigation",
            )
        elif not root.children:
            add(WARN, "site", f"news root {root.path}/ ({root.label}) has no children")
        elif root.path not in {r.strip("/") for r in profile.news_roots}:
            add(
                NOTE,
                "site",
                f"{root.label} links to {root.path}/, not to the profile's news roots: the crawl"
                " follows the label",
            )
    if not probe.roots:
        add(WARN, "site", f"no news root ({labels}) in the home page's navigation")


def _judge_section(section: SectionProbe, profile: SiteProfile, add: Any) -> None:
    where = section.path
    if section.skipped:
        return
    if section.challenge:
        add(WARN, where, f"the list page is a challenge page, not content: {section.challenge}")
        return
    if section.error:
        add(WARN, where, f"the list page could not be read: {section.error}")
        return
    if section.unknown_count and not section.listed:
        add(
            WARN,
            where,
            f"no link of the list matches the profile's article URL pattern"
            f" ({profile.article_url.pattern}); {section.unknown_count} others, e.g."
            f" {section.unknown_links[0]}",
        )
    elif section.unknown_count:
        add(
            WARN,
            where,
            f"{section.unknown_count} link(s) of the list do not match the profile's article URL"
            f" pattern and would be skipped, e.g. {section.unknown_links[0]}",
        )
    elif not section.listed:
        add(WARN, where, "no articles listed on the first list page")
    if section.pages is None and section.listed:
        add(
            NOTE,
            where,
            "no pager script (createPageHTML / countPage): the crawl steps index_N.html until a"
            " 404 or an empty list",
        )
    for sample in section.samples:
        _judge_article(sample, profile, add)


def _judge_article(sample: ArticleSample, profile: SiteProfile, add: Any) -> None:
    where = sample.final_url or sample.url
    if sample.challenge:
        add(WARN, where, f"a challenge page, not the article: {sample.challenge}")
        return
    if sample.error:
        add(WARN, where, f"could not be read: {sample.error}")
        return
    if not sample.fields:
        return  # never answered (the run was stopped)
    fields, provenance = sample.fields, sample.provenance
    for problem in sample.problems:
        if problem != "publication time not found":  # _judge_date says more
            add(WARN, where, problem)
    if sample.final_url and not is_article_url(sample.final_url, profile):
        add(WARN, where, "the article's URL does not match the profile's article URL pattern")
    title_rule = provenance.get("title", "")
    if title_rule and (
        not title_rule.startswith(_OWN_RULES) or title_rule.startswith(_META_SELECTOR)
    ):
        add(WARN, where, f"title only from {title_rule}: no selector matched a visible title")
    listed = (sample.listed_title or "").rstrip("…. ").strip()
    if fields.get("title") and listed and not fields["title"].startswith(listed):
        add(
            WARN,
            where,
            f"title {fields['title']!r} ({title_rule}) differs from the list's {listed!r}",
        )
    _judge_date(sample, where, add)
    if fields.get("source_raw") is None:
        add(WARN, where, "no 来源 (source) found on the page")
    elif not fields.get("source"):
        add(NOTE, where, "empty 来源 (source)")
    if provenance.get("body") == "density":
        add(WARN, where, "body taken by the density fallback: no body selector matched")
    if sample.charset and sample.charset != "utf-8":
        add(NOTE, where, f"decoded as {sample.charset} (a legacy page)")


def _judge_date(sample: ArticleSample, where: str, add: Any) -> None:
    fields = sample.fields
    published = (fields.get("published") or "")[:10]
    shown = "shown" if fields.get("published_raw") else "from meta PubDate"
    if published and sample.listed_date and published != sample.listed_date:
        add(WARN, where, f"date {shown} {published} but the list says {sample.listed_date}")
    if not fields.get("published_raw"):
        if not published:
            add(WARN, where, "no date at all on the page" + _url_date_hint(sample))
        return  # from meta PubDate: normalization's problem says so
    if published and sample.url_date and published != sample.url_date:
        days = (date.fromisoformat(sample.url_date) - date.fromisoformat(published)).days
        direction = "before" if days > 0 else "after"
        add(
            NOTE,
            where,
            f"date shown {published}, {abs(days)} day(s) {direction} the URL's {sample.url_date}"
            " (the CMS's creation date; the shown date is kept)",
        )


def _url_date_hint(sample: ArticleSample) -> str:
    return f": only the URL's {sample.url_date}" if sample.url_date else ""


def _judge_selectors(probe: SiteProbe, profile: SiteProfile, add: Any) -> None:
    """A profile selector list none of the sampled pages matched: the labels or a fallback
    did the work (a note; the articles' warnings say where that went wrong)."""
    read = [s for section in probe.sections for s in section.samples if s.fields]
    if not read:
        return
    groups = {
        "title": (profile.extraction.title, ("title",)),
        "info": (profile.extraction.info, ("source", "published", "author")),
        "body": (profile.extraction.body, ("body",)),
    }
    for name, (selectors, field_names) in groups.items():
        used = any(
            s.provenance.get(f, "").startswith("selector:")
            and not s.provenance.get(f, "").startswith(_META_SELECTOR)
            for s in read
            for f in field_names
        )
        if selectors and not used:
            add(
                NOTE,
                "site",
                f"no {name} selector matched on the {len(read)} sampled page(s):"
                f" {', '.join(selectors)}",
            )


def profile_misfit(probe: SiteProbe, profile: SiteProfile) -> str | None:
    """Why the profile does not read the site's articles, or None: the check a first crawl
    makes before it archives anything (chalco_crawler/first_probe.py).

    Narrower than `judge`'s warnings, which also cover what varies on any site (a list link
    off the URL pattern, a missing 来源, a challenged article): the profile does not fit when
    more than half of the sampled articles that were read come out misread, their title,
    date or body missing or found only by a fallback rule. None when no article was read
    (the crawl's own misread share guards then)."""
    read = [
        sample
        for section in probe.sections
        for sample in section.samples
        if sample.fields and not sample.challenge and not sample.error
    ]
    misread = [(sample, why) for sample in read if (why := _misreading(sample))]
    if not read or len(misread) * 2 <= len(read):
        return None
    sample, why = misread[0]
    return (
        f"{len(misread)} of the {len(read)} sampled articles are misread"
        f" (e.g. {sample.final_url or sample.url}: {why})"
    )


def _misreading(sample: ArticleSample) -> str | None:
    for problem in ("title not found", "body not found"):
        if problem in sample.problems:
            return problem
    title_rule = sample.provenance.get("title", "")
    if not title_rule.startswith(_OWN_RULES) or title_rule.startswith(_META_SELECTOR):
        return f"title only from {title_rule or 'nothing'}"
    if sample.provenance.get("body") == "density":
        return "body only from the density fallback"
    if not sample.fields.get("published_raw"):
        return "no date shown on the page"
    return None


def exit_code(probes: list[SiteProbe], flags: dict[str, list[Flag]]) -> int:
    if any(not p.reachable for p in probes):
        return EXIT_UNREACHABLE
    if any(f.level == WARN for site_flags in flags.values() for f in site_flags):
        return EXIT_MISFIT
    return EXIT_FITS


def as_json(probes: list[SiteProbe], flags: dict[str, list[Flag]]) -> dict[str, Any]:
    sites = []
    for probe in probes:
        record = asdict(probe)
        record["flags"] = [asdict(f) for f in flags[probe.name]]
        record["fits"] = probe.reachable and not any(f.level == WARN for f in flags[probe.name])
        sites.append(record)
    return {"sites": sites, "exit_code": exit_code(probes, flags)}


def text_lines(probe: SiteProbe, site_flags: list[Flag]) -> list[str]:
    """The report of one site for a person: what was found, how each field was read, and
    each warning (!) and note (·) beside what it is about."""
    by_place: dict[str, list[Flag]] = {}
    for flag in site_flags:
        by_place.setdefault(flag.where, []).append(flag)

    def flagged(where: str, indent: str) -> list[str]:
        return [
            f"{indent}{'!' if f.level == WARN else '·'} {f.message}"
            for f in by_place.get(where, [])
        ]

    lines = [f"{probe.name}  {probe.base_url}  ({probe.requests} requests)"]
    lines += flagged("site", "  ")
    for root in probe.roots:
        children = ", ".join(root.children) or "none"
        lines.append(f"  news root {root.path}/ {root.label or ''}: children {children}".rstrip())
    for section in probe.sections:
        lines.append(_section_line(section))
        lines += flagged(section.path, "    ")
        for sample in section.samples:
            lines += _sample_lines(sample)
            lines += flagged(sample.final_url or sample.url, "      ")
    warnings = sum(1 for f in site_flags if f.level == WARN)
    notes = len(site_flags) - warnings
    if not probe.reachable:
        verdict = "the site cannot be reached"
    elif warnings:
        verdict = f"the profile does not fit: {warnings} warning(s), {notes} note(s)"
    else:
        verdict = f"the profile fits ({notes} note(s))"
    lines.append(f"{probe.name}: {verdict}")
    return lines


def _section_line(section: SectionProbe) -> str:
    head = f"  section {section.path} {section.name or ''}".rstrip() + f" ({section.origin})"
    if section.skipped:
        return head + ": not sampled"
    if section.challenge or section.error:
        return head + ": list page not read"
    pages = f"{section.pages} list pages" if section.pages is not None else "no pager"
    return head + f": {pages}, {section.listed} articles on the first page"


def _sample_lines(sample: ArticleSample) -> list[str]:
    lines = [f"    article {sample.final_url or sample.url}"]
    if not sample.fields:
        return lines
    fields, provenance = sample.fields, sample.provenance
    lines.append(f"      {'charset':<12} {sample.charset}")
    body = f"{fields['body_paragraphs']} paragraphs, {fields['body_chars']} characters"
    shown = {
        "title": fields.get("title"),
        "source": fields.get("source"),
        "published": fields.get("published"),
        "author": fields.get("author"),
        "body": body if fields["body_chars"] else None,
        "attachments": fields["attachments"] or None,
        "images": fields["images"] or None,
    }
    for name in FIELDS:
        value = "—" if shown[name] is None else str(shown[name])
        rule = provenance.get(name, "not found")
        if name == "published" and shown[name] and name not in provenance:
            rule = "meta:PubDate"
        lines.append(f"      {name:<12} {value}  [{rule}]")
    return lines
