"""Building replicas (deterministic, 2,000 articles in seconds) and serving them with
`python -m replica` (bad arguments, the later state, the member flavour, the group)."""

from __future__ import annotations

import time

import pytest

from replica.__main__ import main
from replica.server import ReplicaServer
from replica.site.build import build_site
from replica.site.flavours import SHARED_STORIES


def test_build_is_deterministic_and_scales() -> None:
    first, second = build_site(articles=40, seed=7), build_site(articles=40, seed=7)
    assert first.articles == second.articles
    assert first.render(first.specials.sample, "h:1") == second.render(
        second.specials.sample, "h:1"
    )
    assert build_site(articles=40, seed=8).articles != first.articles
    started = time.perf_counter()
    big = build_site(2000)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"build_site(2000) took {elapsed:.2f}s"
    assert len(big.articles) == 2000 and len({a.docid for a in big.articles}) == 2000
    assert big.list_pages["xwdt/gsyw"] > 100
    with pytest.raises(ValueError):
        build_site(articles=5)


def test_main_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--articles", "5"])
    assert exit_info.value.code == 2
    assert "articles must be at least" in capsys.readouterr().err


def test_main_serves_later_state(monkeypatch: pytest.MonkeyPatch) -> None:
    import replica.__main__ as cli

    served: list[ReplicaServer] = []

    class Recording(ReplicaServer):
        def start(self) -> ReplicaServer:
            served.append(self)
            return self

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "ReplicaServer", Recording)
    monkeypatch.setattr(cli.time, "sleep", interrupt)
    assert main(["--state", "later", "--port", "0"]) == 0
    assert len(served[0].site.changes) == 1
    assert main(["--port", "0"]) == 0
    assert served[1].site.changes == []


def test_main_serves_member_and_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import replica.__main__ as cli

    served: list[ReplicaServer] = []

    class Recording(ReplicaServer):
        def start(self) -> ReplicaServer:
            served.append(self)
            return self

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "ReplicaServer", Recording)
    monkeypatch.setattr(cli.time, "sleep", interrupt)
    assert main(["--flavour", "member", "--port", "0", "--articles", "40"]) == 0
    assert served[0].site.flavour == "member" and len(served[0].site.articles) == 40
    capsys.readouterr()
    assert main(["--group", "--port", "8123"]) == 0
    chalco, member = served[1:]
    assert (chalco.site.flavour, member.site.flavour) == ("chalco", "member")
    assert (chalco.port, member.port) == (8123, 8124)
    assert len(member.site.shared_stories) == SHARED_STORIES
    assert capsys.readouterr().out.split() == [
        "http://127.0.0.1:8123/",
        "http://127.0.0.1:8124/",
    ]
