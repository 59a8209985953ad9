"""Benchmark: search latency on a large archive, for two-, three- and six-character queries.

Builds an archive of N articles (default 100,000) through the archive's own storage API
(ArchiveWriter.save_article, then archive.store.search_index.index_version for each version,
as the writer does), with Chinese text made of the sentences of the sample article and sentences
drawn from a vocabulary with Zipf-like frequencies (about 20 paragraphs, 1,500 characters
per article). Then times `search()` (limit 50, latest versions) on a read-only connection,
for about 30 queries of each length mixing common and rare words, and prints p50 and p95
latency, the database size and the build time.

    python benchmarks/search.py --articles 5000
    python benchmarks/search.py --home /tmp/bench-home --reuse   # search an archive built before
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from archive.read.search import search
from archive.read.search.plan import phrase as _phrase
from archive.read.search.sqlite import RANKED_CANDIDATES
from archive.store.db import open_reader
from archive.store.home import ArchiveHome
from archive.store.search_index import index_version
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import ArticleContent

# The text of a real 公司要闻 page (also /work/shared/site/sample-article.txt).
SAMPLE = resources.files("replica") / "data" / "sample-article.txt"
SEED = 20260203

COMPANIES = (
    "中铝股份 中铝集团 中国铝业 中铝国际 中铝资本 云铝股份 中国铜业 驰宏锌锗 中铝物资 山西铝业 "
    "广西分公司 贵州分公司 青海分公司 郑州研究院 连城分公司 兰州分公司 包头铝业 抚顺铝业 "
    "山东铝业 中州铝业 遵义铝业 华西铝业 中铝新材料 中铝高端制造 西南铝业 东北轻合金 "
    "中铝环保节能 中铝智能科技 宁夏能源 中铝海外发展 几内亚博法公司 中铝香港 中铝东南铜业 "
    "云南铜业 中铝洛阳铜加工 中铝瑞闽 中铝萨帕 河南华慧 重庆西铝 青岛轻金属"
).split()
PLACES = (
    "北京 昆明 郑州 太原 贵阳 南宁 兰州 西宁 包头 抚顺 淄博 遵义 百色 河津 连城 "
    "呼和浩特 几内亚 上海 重庆 洛阳 福州 银川 沈阳 长沙 海口 乌鲁木齐 秘鲁 澳大利亚"
).split()
TOPICS = (
    "安全生产 科技创新 降本增效 绿色低碳 数字化转型 党风廉政建设 职工代表大会 氧化铝 "
    "电解铝 铝土矿 赤泥综合利用 碳排放 节能降耗 质量管理 人才队伍建设 国企改革 "
    "提质增效 风险防控 合规管理 对标世界一流 新质生产力 智能制造 安全环保 "
    "群众路线 主题教育 巡视整改 乡村振兴 定点帮扶 技能竞赛 劳动竞赛 精益管理 "
    "成本管控 市场营销 国际化经营 产业链协同 高端铝材 再生铝 新能源材料 稀土 "
    "铜冶炼 锌冶炼 铝加工 阳极炭素 电力保障 物流运输 信息安全 审计监督 工会工作 "
    "共青团工作 宣传思想 企业文化 品牌建设 设备管理 环境保护 职业健康 应急演练"
).split()
VERBS = (
    "召开 举行 开展 推进 部署 深入学习 调研 检查 签署 发布 荣获 启动 组织 参加 "
    "举办 督导 座谈 慰问 走访 考察 总结 动员 落实 研究"
).split()
EVENTS = (
    "工作会议 专题会议 座谈会 表彰大会 培训班 现场会 推进会 战略合作协议 年度报告 "
    "誓师大会 交流会 研讨会 启动仪式 签约仪式 专题党课 警示教育会 述职评议会 联席会议"
).split()
ROLES = "党委书记 董事长 总经理 副总经理 工会主席 纪委书记 总工程师 财务总监 主任 厂长".split()
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "文建瑞忠世清峰东征丹明华强伟军磊洋勇艳杰娟涛超秀霞平刚志国兴宏飞斌鹏俊晓"
GOALS = (
    "坚持稳中求进工作总基调 全面完成年度目标任务 守牢安全环保底线 持续深化改革 "
    "加快培育发展新质生产力 推动高质量发展 提升核心竞争力 强化责任担当 "
    "狠抓工作落实 确保各项部署落地见效 以更高标准推进各项工作 切实维护职工合法权益"
).split()

TWO_COMMON = "中铝 职工 发展 公司 安全 党委 会议 管理 工作 创新 集团 铝业 质量 推进 改革".split()
THREE_COMMON = (
    "新中铝 十四五 十五五 电解铝 氧化铝 铝土矿 董事长 总经理 副书记 碳排放 "
    "再生铝 座谈会 高质量 新格局 生产力"
).split()
ONE_CHAR = list("铝中的职会锌钛铼氘量")
SIX_COMMON = (
    "职工代表大会 世界一流矿业 品牌形象最佳 中铝股份党委 习近平新时代 党风廉政建设 "
    "赤泥综合利用 发展新质生产 安全环保底线 中铝集团二届 干部职工坚定 加快培育发展 "
    "全面完成年度 推动高质量发 提升核心竞争"
).split()


_CUMULATIVE: dict[int, list[float]] = {}


def zipf_choice(rng: random.Random, items: list[str]) -> str:
    """Early items often, late items rarely (weight 1 / rank)."""
    if len(items) not in _CUMULATIVE:
        total, cumulative = 0.0, []
        for rank in range(len(items)):
            total += 1 / (rank + 1)
            cumulative.append(total)
        _CUMULATIVE[len(items)] = cumulative
    return rng.choices(items, cum_weights=_CUMULATIVE[len(items)])[0]


class TextMaker:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        text = SAMPLE.read_text(encoding="utf-8")
        body = text.split("时间:", 1)[-1]
        self.sentences = [
            s.strip() + "。"
            for s in re.split(r"[。！？]", body)
            if len(s.strip()) >= 12 and "版权" not in s
        ]
        self.people = [a + b + c for a in SURNAMES[:12] for b in GIVEN[:10] for c in GIVEN[10:20]]
        self.rng.shuffle(self.people)

    def person(self) -> str:
        return zipf_choice(self.rng, self.people)

    def made_sentence(self) -> str:
        r, pick = self.rng, zipf_choice
        company, kind = pick(r, COMPANIES), r.randrange(5)
        if kind == 0:
            return (
                f"{r.randint(1, 12)}月{r.randint(1, 28)}日，{company}在{pick(r, PLACES)}"
                f"{pick(r, VERBS)}{pick(r, TOPICS)}{pick(r, EVENTS)}。"
            )
        if kind == 1:
            return f"{company}{pick(r, ROLES)}{self.person()}出席并讲话，强调要{pick(r, GOALS)}。"
        if kind == 2:
            return (
                f"会议指出，{pick(r, TOPICS)}是{company}{pick(r, GOALS)}的重要抓手，"
                f"要以{pick(r, TOPICS)}为重点，{pick(r, GOALS)}。"
            )
        if kind == 3:
            return (
                f"{r.randint(2016, 2026)}年，{company}完成{pick(r, TOPICS)}项目"
                f"{r.randint(2, 90)}项，同比增长{r.randint(1, 40)}.{r.randint(0, 9)}%。"
            )
        return (
            f"{self.person()}、{self.person()}等{r.randint(3, 60)}名{pick(r, ROLES)}"
            f"参加了在{pick(r, PLACES)}举行的{pick(r, EVENTS)}。"
        )

    def paragraph(self) -> str:
        parts = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.4:
                parts.append(self.rng.choice(self.sentences))
            else:
                parts.append(self.made_sentence())
        return "".join(parts)

    def article(self) -> tuple[str, str]:
        r = self.rng
        title = (
            f"{zipf_choice(r, COMPANIES)}{zipf_choice(r, VERBS)}"
            f"{zipf_choice(r, TOPICS)}{zipf_choice(r, EVENTS)}"
        )
        paragraphs: list[str] = []
        while sum(len(p) for p in paragraphs) < 1400:
            paragraphs.append(self.paragraph())
        return title, "\n".join(paragraphs)


def build(home: ArchiveHome, articles: int) -> tuple[float, float]:
    """Store `articles` articles; seconds for the whole build and for indexing alone."""
    maker = TextMaker(SEED)
    started = time.perf_counter()
    indexing = 0.0
    writer = ArchiveWriter(home, commit_every=1000, commit_seconds=30)
    try:
        writer.start_run("chalco", "http://www.chalco.com.cn/", "full")
        fetched_at = datetime(2026, 2, 3, tzinfo=UTC)
        capture = writer.record_exchange(
            HttpExchange(
                url="http://www.chalco.com.cn/xwdt/gsyw/",
                method="GET",
                request_headers=[],
                status=200,
                protocol="HTTP/1.1",
                response_headers=[("Content-Type", "text/html; charset=utf-8")],
                payload=b"<html></html>",
                fetched_at=fetched_at,
            )
        )
        sections = {"xwdt/gsyw": "公司要闻", "xwdt/ggdt": "高管动态", "xwdt/qydt": "企业动态"}
        listed: dict[str, list[tuple[str, str | None]]] = {section: [] for section in sections}
        first_day = datetime(2016, 1, 1)
        for n in range(articles):
            title, body = maker.article()
            published = (first_day + timedelta(days=n * 3650 // articles)).date().isoformat()
            docid = 100000 + n
            section = list(sections)[n % 3]
            month = published[:7].replace("-", "")
            url = f"http://www.chalco.com.cn/{section}/{month}/t{docid}.html"
            listed[section].append((url, title))
            html = "".join(f"<p>{line}</p>" for line in body.split("\n"))
            content = ArticleContent(
                url=url,
                site="chalco",
                docid=docid,
                title=title,
                source="党委宣传部" if n % 4 else "中铝股份",
                source_raw=None,
                author=None,
                author_raw=None,
                published=published,
                published_raw=f"时间: {published}",
                info_raw=None,
                body=body,
                body_html=html,
            )
            _, version_id = writer.save_article(content, capture.id, fetched_at)
            before = time.perf_counter()
            index_version(writer.connection, version_id, title, body)
            indexing += time.perf_counter() - before
            if (n + 1) % 10000 == 0:
                print(f"  {n + 1} articles, {time.perf_counter() - started:.0f} s", flush=True)
        for section, links in listed.items():
            writer.note_listings(
                site="chalco",
                section=section,
                section_name=sections[section],
                list_url=f"http://www.chalco.com.cn/{section}/",
                links=links,
                seen_at=fetched_at,
            )
        writer.finish_run("ok", 0, {})
    finally:
        writer.close()
    return time.perf_counter() - started, indexing


def queries(rng: random.Random) -> dict[str, list[str]]:
    """About 30 queries per length: the common ones above and rare ones (people's names, the
    tail of the vocabulary, words found nowhere)."""
    maker = TextMaker(SEED)
    tail_people = maker.people[-400:]
    rare_two = [p[1:] for p in rng.sample(tail_people, 13)] + ["铼钨", "氘氚"]
    rare_three = rng.sample(tail_people, 13) + ["钛白粉", "锂辉石"]
    rare_six = (
        [f"{rng.choice(tail_people)}{rng.choice(ROLES)}"[:6] for _ in range(5)]
        + [f"{rng.choice(PLACES[-10:])}{rng.choice(EVENTS[-8:])}"[:6] for _ in range(5)]
        + ["西南铝业誓师", "重庆西铝研讨", "秘鲁签约仪式", "青岛轻金属稀", "量子计算铝材"]
    )
    return {
        "2 chars": TWO_COMMON + rare_two,
        "3 chars": THREE_COMMON + rare_three,
        "6 chars": SIX_COMMON + rare_six,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def candidates(connection: Connection, word: str) -> int:
    """How many versions the index offers for a word (about its number of matches)."""
    phrase = _phrase(word)
    if phrase is None:
        return -1
    return (
        connection.exec_driver_sql(
            "SELECT count(*) FROM search_index WHERE search_index MATCH ?", (phrase,)
        ).scalar()
        or 0
    )


def measure(home: ArchiveHome, repeat: int) -> None:
    engine = open_reader(home)
    rng = random.Random(SEED)
    groups = queries(rng)
    groups["1 char (not a target)"] = ONE_CHAR
    groups["2 chars, section and since"] = groups["2 chars"]
    with engine.connect() as connection:
        for name, words in groups.items():
            filters: dict[str, Any] = {}
            if "section" in name:
                filters = {"section": "xwdt/ggdt", "since": "2024-06"}
            assert all(len(w) == int(name[0]) for w in words), (name, words)
            first: list[float] = []
            latencies: list[float] = []
            counts: list[int] = []
            for word in words:
                started = time.perf_counter()
                search(connection, word, **filters)
                first.append((time.perf_counter() - started) * 1000)
                for _ in range(repeat):
                    started = time.perf_counter()
                    search(connection, word, **filters)
                    latencies.append((time.perf_counter() - started) * 1000)
                counts.append(candidates(connection, word))
            ranked = sum(1 for count in counts if count <= RANKED_CANDIDATES)
            print(
                f"{name}: {len(words)} queries, limit 50:"
                f" p50 {percentile(latencies, 0.5):6.1f} ms"
                f"  p95 {percentile(latencies, 0.95):6.1f} ms"
                f"  max {max(latencies):6.1f} ms"
                f" (first run p50 {percentile(first, 0.5):6.1f} ms)"
                f" | candidates: median {statistics.median(counts):.0f}, max {max(counts)},"
                f" none for {counts.count(0)}; {ranked} ranked by BM25, the rest newest first"
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--home", type=Path, help="where to build (default: a temporary dir)")
    parser.add_argument("--reuse", action="store_true", help="search the archive in --home")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query")
    args = parser.parse_args()
    root = args.home or Path(tempfile.mkdtemp(prefix="chalco-search-")) / "home"
    home = ArchiveHome.at(root)
    if not args.reuse:
        print(f"building {args.articles} articles in {home.root}")
        wall, indexing = build(home, args.articles)
        print(f"build: {wall:.1f} s, of which indexing {indexing:.1f} s")
    size = home.database_path.stat().st_size
    wal = home.database_path.with_name(home.database_path.name + "-wal")
    engine = open_reader(home)
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT count(*) FROM article_versions").scalar()
        index_bytes = sum(
            connection.exec_driver_sql(
                f"SELECT (SELECT sum(length(block)) FROM {table}_data)"
                f" + (SELECT sum(length(sz)) + 8 * count(*) FROM {table}_docsize)"
            ).scalar()
            or 0
            for table in ("search_index", "search_title")
        )
        text_chars = connection.exec_driver_sql(
            "SELECT sum(length(title) + length(body)) FROM article_versions"
        ).scalar()
    engine.dispose()
    print(
        f"archive: {versions} versions, {text_chars / max(versions or 1, 1):.0f} characters each;"
        f" database {size / 2**20:.0f} MiB"
        + (f" (+ WAL {wal.stat().st_size / 2**20:.0f} MiB)" if wal.exists() else "")
        + f", of which the search index about {(index_bytes or 0) / 2**20:.0f} MiB"
    )
    measure(home, args.repeat)


if __name__ == "__main__":
    main()
