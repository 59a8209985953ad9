"""The command group of `chalco-archive`: verbs imported only when run, errors as one line.

A verb's module imports what its work needs (SQLAlchemy, rich, warcio, pyarrow...), which
takes longer than most commands run; `--help` and `--version` import none of them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

# Exit codes shared with `crawl` (README): 1 failure, 2 site unreachable, 3 home in use,
# 4 usage. Click's own usage errors exit 2, which would read as "unreachable" to a monitor.
EXIT_USAGE = 4


@dataclass(frozen=True)
class Verb:
    """Where a verb's click command is defined, and the line `--help` shows for it."""

    module: str
    """The module defining the command, imported when the verb runs."""
    attribute: str
    """The command's name in that module."""
    short_help: str
    """The command's own short help, untruncated (tests/test_startup.py checks they agree)."""

    def load(self) -> click.Command:
        command = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.module}.{self.attribute} is not a click command")
        return command


class ArchiveGroup(click.Group):
    """A group whose verbs are named in a registry and imported on first use."""

    def __init__(self, *args: Any, verbs: Mapping[str, Verb] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.verbs: Mapping[str, Verb] = verbs or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.verbs})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.verbs:
            self.add_command(self.verbs[cmd_name].load(), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_every_verb(self) -> None:
        """Import every verb's command, for what reads the group's `commands` whole (the
        generated CLI reference, archive/cli/reference.py)."""
        for name in self.verbs:
            self.get_command(click.Context(self), name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            # As a mistyped option gets it from click: the nearest verbs, if any is near.
            import difflib  # a mistyped verb only: not on every command's start

            near = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            if near:
                hint = " or ".join(f"'{verb}'" for verb in near)
                ctx.fail(f"No such command {name!r}. Did you mean {hint}?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click.Group lays the list out, but from the registry's short help: listing the
        # verbs would otherwise import every one of them. A stand-in command with that text
        # as its help is shortened to the width by click itself, as the verb's would be.
        stand_ins = {
            name: self.commands.get(name) or click.Command(name, help=self.verbs[name].short_help)
            for name in self.list_commands(ctx)
        }
        shown = [(name, command) for name, command in stand_ins.items() if not command.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in shown)
        rows = [(name, command.get_short_help_str(limit)) for name, command in shown]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:
            # Bare `chalco-archive`: its help, as git and click's own groups print it.
            click.echo(error.ctx.get_help() if error.ctx else self.get_help(click.Context(self)))
            sys.exit(0)
        except click.UsageError as error:
            # One line, as every error here: the usage text is one --help away.
            verb = error.ctx.command_path if error.ctx else "chalco-archive"
            click.echo(f"Error: {error.format_message()} (see `{verb} --help`)", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
