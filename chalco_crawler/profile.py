"""Site profiles: everything particular to one site of the 中铝网站群, read from TOML data files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

BUNDLED_PROFILES = "chalco_crawler.sites"
DEFAULT_SITE = "chalco"
# A user's own profiles live in HOME/sites/*.toml.
PROFILE_DIR_NAME = "sites"


@dataclass(frozen=True)
class ExtractionRules:
    """Selectors (CSS, tried in order) and labels used to read an article page.

    Selectors come first; the label rules (`来源`, `时间`, `作者`, `附件`) are the fallback
    for templates the selectors do not know.
    """

    title: tuple[str, ...] = ()
    info: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    boilerplate: tuple[str, ...] = ()
    source_labels: tuple[str, ...] = ("来源",)
    time_labels: tuple[str, ...] = ("时间", "发布时间", "日期")
    author_labels: tuple[str, ...] = ("作者",)
    attachment_labels: tuple[str, ...] = ("附件",)
    document_extensions: tuple[str, ...] = (
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "zip",
        "rar",
        "7z",
        "txt",
        "wps",
    )


@dataclass(frozen=True)
class SiteProfile:
    """One site: where its news lives and how its pages are read."""

    name: str
    title: str
    base_url: str
    timezone: str
    news_roots: tuple[str, ...]
    """Section paths (no leading slash, trailing slash) whose children are news sections."""
    news_root_labels: tuple[str, ...]
    """Navigation labels of the news roots (新闻动态 …), used to find them on the home page."""
    fallback_sections: tuple[str, ...]
    """Sections crawled when the home page's navigation yields none."""
    extra_sections: tuple[str, ...]
    """Sections outside the news roots crawled too by default (通函与公告 …)."""
    article_url: re.Pattern[str]
    """Matches an article URL's path; named groups `date` (YYYYMMDD) and `docid` when present."""
    legacy_article_url: re.Pattern[str]
    extraction: ExtractionRules = field(default_factory=ExtractionRules)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


def _tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


def profile_from_dict(data: dict) -> SiteProfile:
    """Build a profile from parsed TOML; missing extraction keys keep their defaults."""
    news = data.get("news", {})
    urls = data.get("urls", {})
    rules_data = data.get("extraction", {})
    defaults = ExtractionRules()
    rules = ExtractionRules(
        **{
            name: _tuple(rules_data[name]) if name in rules_data else getattr(defaults, name)
            for name in ExtractionRules.__dataclass_fields__
        }
    )
    return SiteProfile(
        name=data["name"],
        title=data.get("title", data["name"]),
        base_url=data["base_url"],
        timezone=data.get("timezone", "Asia/Shanghai"),
        news_roots=_tuple(news.get("roots", ())),
        news_root_labels=_tuple(news.get("root_labels", ())),
        fallback_sections=_tuple(news.get("fallback_sections", ())),
        extra_sections=_tuple(news.get("extra_sections", ())),
        article_url=re.compile(urls.get("article", r"/t(?P<date>\d{8})_(?P<docid>\d+)\.s?html?$")),
        legacy_article_url=re.compile(
            urls.get("legacy_article", r"/webinfo/\d{4}/\d{2}/[^/]+\.html?$")
        ),
        extraction=rules,
    )


def load_profile_file(path: Path) -> SiteProfile:
    try:
        with open(path, "rb") as handle:
            return profile_from_dict(tomllib.load(handle))
    except (tomllib.TOMLDecodeError, KeyError) as error:
        raise ValueError(f"site profile {path}: {error}") from error


def bundled_profile_names(profile_dirs: list[str] | None = None) -> list[str]:
    """Names of the bundled profiles and of those in `profile_dirs` (`HOME/sites`)."""
    names = {
        entry.name.removesuffix(".toml")
        for entry in resources.files(BUNDLED_PROFILES).iterdir()
        if entry.name.endswith(".toml")
    }
    for directory in profile_dirs or []:
        names |= {path.stem for path in Path(directory).glob("*.toml")}
    return sorted(names)


def load_profile(
    name_or_path: str = DEFAULT_SITE, profile_dirs: list[str] | None = None
) -> SiteProfile:
    """A profile by name (the user's directories first, then the bundled ones), or a TOML
    file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return load_profile_file(path)
    for directory in profile_dirs or []:
        candidate = Path(directory) / f"{name_or_path}.toml"
        if candidate.is_file():
            return load_profile_file(candidate)
    resource = resources.files(BUNDLED_PROFILES) / f"{name_or_path}.toml"
    if not resource.is_file():
        known = ", ".join(bundled_profile_names(profile_dirs))
        raise LookupError(f"no site profile named {name_or_path!r} (known: {known})")
    return profile_from_dict(tomllib.loads(resource.read_text("utf-8")))
