"""The tracking server goes away mid-sweep: the sweep retries for tracking.retry_timeout_s, then
ends with one clear error; what finished is on the server; once the server is back, resuming
completes the sweep."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest
from mlflow.tracking import MlflowClient

from sweep.errors import Interrupted
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK
from tests.services import env_with_bin, free_port, mlflow_server
from tests.test_tracking_server import server_config

pytestmark = pytest.mark.slow
RETRY_S = 8


def sweep_runs(url: str) -> list:
    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("covtype-dtree")
    return client.search_runs([experiment.experiment_id]) if experiment else []


def test_outage_stops_within_the_budget_and_the_sweep_resumes(tmp_path, spark):
    folder, port = tmp_path / "server", free_port()
    overrides = [*QUICK[2:], "sweep.max_evals=6"]  # QUICK without +experiment, data.rows
    with ExitStack() as server:
        url = server.enter_context(mlflow_server(folder, None, port))
        sweep = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sweep",
                *QUICK[:2],
                *overrides,
                "tracking=server",
                f"tracking.uri={url}",
                f"tracking.retry_timeout_s={RETRY_S}",
                f"hydra.run.dir={tmp_path}/out",
            ],  # fmt: skip
            cwd=tmp_path,
            env=env_with_bin(PYTHONUNBUFFERED="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 300
            while not any(
                r.data.tags.get("sweep.role") == "trial" and r.info.status == "FINISHED"
                for r in sweep_runs(url)
            ):
                assert sweep.poll() is None, sweep.stderr.read()[-3000:]
                assert time.monotonic() < deadline, "no trial finished in 300 s"
                time.sleep(0.2)
        except BaseException:
            sweep.kill()
            raise
    stopped = time.monotonic()  # the server is gone (its process group was killed)
    _, stderr = sweep.communicate(timeout=180)
    gave_up_after = time.monotonic() - stopped

    assert sweep.returncode == 2, stderr[-3000:]
    assert "Traceback" not in stderr
    match = re.search(
        r"sweep: error: tracking.uri=http://127.0.0.1:\d+: the MLflow server stopped answering "
        r"\(.*retried for \d+ s\); sweep (\w+) stopped, its finished trials are on the server\. "
        r"Start the server again, then resume .* sweep.resume=(\w+)",
        stderr,
    )
    assert match and match.group(1) == match.group(2), stderr[-3000:]
    assert gave_up_after < RETRY_S + 60  # the budget, plus the last request and Spark's stop

    with mlflow_server(folder, None, port) as url:  # the same store, back on the same port
        runs = sweep_runs(url)
        [parent] = [r for r in runs if r.data.tags.get("sweep.role") == "parent"]
        assert parent.info.run_id == match.group(1)
        assert parent.info.status == "RUNNING"  # nobody could end it; resume does
        trials = [r for r in runs if r.data.tags.get("sweep.role") == "trial"]
        assert 1 <= sum(r.info.status == "FINISHED" for r in trials) < 6

        cfg = server_config(url, *overrides, f"sweep.resume={parent.info.run_id}")
        result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))

        runs = sweep_runs(url)
        trials = [r for r in runs if r.data.tags.get("sweep.role") == "trial"]
        assert sum(r.info.status == "FINISHED" for r in trials) == 6
        assert not [r for r in runs if r.info.status == "RUNNING"]
        assert result.parent_run_id == parent.info.run_id
        assert MlflowClient(url).get_run(parent.info.run_id).info.status == "FINISHED"


def test_a_signal_during_an_outage_stays_an_interrupt(tmp_path, caplog):
    """Ending the runs KILLED fails while the server is away: a warning, and the Interrupted (exit
    130) goes on, instead of a tracking error (exit 2) replacing it."""
    with ExitStack() as server:
        url = server.enter_context(mlflow_server(tmp_path / "server"))
        tracker = Tracker.open(url, retry_timeout_s=2)
        tracker.experiment_id = tracker.client.create_experiment("outage")
        with (
            pytest.raises(Interrupted),
            tracker.parent("p") as parent_id,
            tracker.child(parent_id, 0),
        ):
            server.close()  # the server is gone
            tracker.log_while_failing(parent_id, tags={"sweep.end_reason": "interrupted"})
            raise Interrupted(signal.SIGINT, parent_id)
    # The first write used the budget; the others know the server is gone and skip at once.
    assert "Could not record the end of run" in caplog.text
