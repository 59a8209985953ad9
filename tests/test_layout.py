"""The house layout holds: `import archive` alone never pulls in Scrapy, the crawler or the
pipelines, so an analyst can use the archive without them."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import archive


def test_the_archive_package_imports_without_the_crawler():
    modules = [
        m.name
        for m in pkgutil.walk_packages(archive.__path__, "archive.")
        # Alembic's env.py runs a migration when imported, a __main__ runs its command.
        if ".migrations" not in m.name and not m.name.endswith("__main__")
    ]
    assert "archive.store.writer" in modules and "archive.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('scrapy', 'twisted', 'chalco_crawler', 'pipelines'))\n"
        "print(leaked)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
