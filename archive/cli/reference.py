"""`chalco-archive` with every verb resolved, for the generated CLI reference in docs/.

mkdocs-click documents a group from its `commands`, which the lazy group fills only as verbs
are run; this module fills it whole first, so the reference cannot leave a verb out.
"""

from __future__ import annotations

from archive.cli import main
from archive.cli.group import ArchiveGroup

assert isinstance(main, ArchiveGroup)
main.resolve_every_verb()
cli = main
"""The group with every verb loaded: what docs/reference/cli.md documents."""
