"""The pure tier's own check (tests/unit/conftest.py) sees a store when one is opened: run in a
subprocess, so that this tier itself stays pure."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_the_store_check_counts_a_store_that_a_client_opens(tmp_path):
    code = (
        "from mlflow.tracking import MlflowClient; from tests.unit.conftest import stores_opened; "
        "import sys; before = stores_opened(); "
        f"MlflowClient({(tmp_path / 'mlruns').as_uri()!r}).search_experiments(); "
        "sys.exit(0 if (before, stores_opened()) == (0, 1) else 1)"
    )
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}  # a file store opens in milliseconds
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
