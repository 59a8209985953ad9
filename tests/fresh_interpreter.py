"""Which packages a fresh interpreter has imported after running some code: how the start-up
tests see what a command loads (this interpreter has imported everything the other tests use)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def loaded_after(code: str, cwd: Path, *packages: str) -> list[str]:
    """Which of `packages` a fresh interpreter has imported after running `code`, which must
    succeed. The answer goes through a file, so that what `code` prints cannot garble it."""
    report = cwd / "loaded-packages.json"
    probe = (
        f"{code}\nimport json, sys\n"
        f"open({str(report)!r}, 'w').write(json.dumps(sorted("
        f"{{m.split('.')[0] for m in sys.modules}} & {set(packages)!r})))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(report.read_text())
