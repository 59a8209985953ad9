"""`python -m archive.cli`: the chalco-archive command."""

from archive.cli import main

main()
