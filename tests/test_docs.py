"""The documentation: every verb has a page with an example and its generated help, the
README fits a screen, the Markdown is wrapped, the site builds strict in CI, and the
README's test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from archive.cli import VERBS, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
DOCS = ROOT / "docs"
MKDOCS = (ROOT / "mkdocs.yml").read_text("utf-8")
CI = (ROOT / ".ci" / "run").read_text("utf-8")
# The verbs are imported when asked for: list them, and get each, as the command line does.
CONTEXT = click.Context(main)
COMMANDS = main.list_commands(CONTEXT)
# Pages of the site; docs/incoming/ holds notes not yet folded in, outside the site.
PAGES = sorted(p for p in DOCS.rglob("*.md") if "incoming" not in p.relative_to(DOCS).parts)
WIDTH = 100


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_page_with_an_example_and_its_help(command):
    page = DOCS / "commands" / f"{command}.md"
    assert page.exists(), f"docs/commands/{command}.md"
    text = page.read_text("utf-8")
    assert text.startswith(f"# `chalco-archive {command}`\n")
    examples = [block for block in fenced(text) if block[0] == "sh"]
    assert any(
        re.match(rf"chalco-archive {command}\b", line)
        for _lang, lines in examples
        for line in lines
    ), f"no ```sh example of `chalco-archive {command}`"
    verb = VERBS[command]
    assert f":module: {verb.module}\n    :command: {verb.attribute}\n" in text  # its --help
    assert f"commands/{command}.md" in MKDOCS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(command):
    assert "Example" in (main.get_command(CONTEXT, command).help or "")


def test_the_reference_page_has_every_verb():
    """mkdocs-click documents the group's `commands`, which the lazy group fills only as
    verbs run: archive.cli.reference resolves them all first."""
    from archive.cli.reference import cli

    assert set(cli.commands) == set(VERBS)
    text = (DOCS / "reference" / "cli.md").read_text("utf-8")
    assert ":module: archive.cli.reference\n    :command: cli\n" in text


def test_ci_runs_the_readme_test_command():
    test_command = next(
        line
        for line in README.splitlines()
        if line.startswith("python3 -m venv") and "pytest" in line
    )
    assert test_command in CI


def test_ci_builds_the_site_strict_and_installs_the_main_job_in_a_fresh_clone():
    assert "mkdocs build --strict" in CI and "'.[docs]'" in CI
    main_job = next(
        line
        for line in README.splitlines()
        if line.startswith("python3 -m venv") and "crawl" in line
    )
    install = main_job.split(" && .venv/bin/chalco-archive")[0]
    assert install in CI and "git clone" in CI


def test_the_readme_fits_a_screen():
    lines = README.splitlines()
    assert len(lines) <= 200
    assert [line for line in lines if len(line) > WIDTH] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_pages_are_wrapped(page):
    """Prose wrapped at 100 characters; a code block may quote a longer line as printed."""
    long = [
        line
        for line in outside_code(page.read_text("utf-8"))
        if len(line) > WIDTH and not line.startswith("--8<--")
    ]
    assert long == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_page_is_in_the_site(page):
    assert str(page.relative_to(DOCS)) in MKDOCS


def test_the_notes_waiting_to_be_folded_in_are_not_built():
    assert re.search(r"exclude_docs: \|\n\s+incoming/", MKDOCS)


def test_the_project_carries_its_own_description_of_the_site():
    """The site's description is a page of the repository's docs, not a file elsewhere."""
    site = (DOCS / "site.md").read_text("utf-8")
    for topic in (
        "## Sections",
        "## List pages and the pager",
        "## Templates",
        "## Labels",
        "## The replica",
    ):
        assert topic in site
    for text in [README, *(page.read_text("utf-8") for page in PAGES)]:
        assert "SITE.md" not in text
    assert "SITE.md" not in (ROOT / "ARCHITECTURE.md").read_text("utf-8")


def fenced(text: str) -> list[tuple[str, list[str]]]:
    """The fenced code blocks of a Markdown text: (language, lines)."""
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in text.splitlines():
        if current is None and line.startswith("```"):
            current = (line[3:].strip(), [])
        elif current is not None and line.startswith("```"):
            blocks.append(current)
            current = None
        elif current is not None:
            current[1].append(line)
    return blocks


def outside_code(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside:
            lines.append(line)
    return lines
