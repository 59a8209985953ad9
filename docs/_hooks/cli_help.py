"""MkDocs hook: the examples in a command's generated help shown as a code block.

A verb's help keeps its examples in a click `\\b` paragraph (`Example:` and indented command
lines), which `--help` prints line by line. mkdocs-click passes the help on as Markdown, where
those lines would run together into one paragraph; this turns each such paragraph into a
fenced `sh` block, after mkdocs-click has run and before Markdown reads the page.
"""

from __future__ import annotations

from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

EXAMPLE_HEADS = ("Example:", "Examples:")
MKDOCS_CLICK_PRIORITY = 141  # mkdocs_click/_extension.py registers its preprocessor so


class HelpExamples(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if line.strip() in EXAMPLE_HEADS and following.startswith("  "):
                out += [line.strip(), "", "```sh"]
                index += 1
                while index < len(lines) and lines[index].startswith("  "):
                    out.append(lines[index][2:])
                    index += 1
                out += ["```", ""]
                continue
            out.append(line)
            index += 1
        return out


class HelpExamplesExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(HelpExamples(md), "cli_help_examples", MKDOCS_CLICK_PRIORITY - 1)


def on_config(config: Any) -> Any:
    config.markdown_extensions.append(HelpExamplesExtension())
    return config
