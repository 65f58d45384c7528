"""Helpers more than one test file needs: one copy each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path, timeout: float = 300, env: dict | None = None):
    """`python -m sweep ARGS` as a user runs it: a real subprocess, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "sweep", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
