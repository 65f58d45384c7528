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


def all_runs(uri: str) -> list:
    """Every run in every experiment of the store at `uri`."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments) if experiments else []


def children(client, parent_id: str) -> list:
    """The child runs of sweep `parent_id`, in trial order."""
    from sweep import run_keys

    runs = client.search_runs(
        [client.get_run(parent_id).info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{parent_id}'",
    )
    return sorted(runs, key=lambda r: int(r.data.tags[run_keys.TRIAL]))


def start_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """`python -m sweep ARGS` started and left running (to signal it, or to run several at once)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sweep", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
