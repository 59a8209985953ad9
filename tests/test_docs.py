"""The README documents every command, and its test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from archive.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
# The verbs are imported when asked for: list them, and get each, as the command line does.
CONTEXT = click.Context(main)
COMMANDS = main.list_commands(CONTEXT)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_with_an_example(command):
    assert f"### `chalco-archive {command}`" in README
    assert re.search(rf"^chalco-archive {command}\b", README, re.MULTILINE)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(command):
    assert "Example" in (main.get_command(CONTEXT, command).help or "")


def test_ci_runs_the_readme_test_command():
    test_command = next(
        line
        for line in README.splitlines()
        if line.startswith("python3 -m venv") and "pytest" in line
    )
    assert test_command in (ROOT / ".ci" / "run").read_text("utf-8")
