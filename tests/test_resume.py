"""Interrupted sweeps: a real subprocess killed or signalled mid-sweep, then resumed from MLflow."""

import signal
import time

import pytest
from mlflow.tracking import MlflowClient

from sweep.errors import ConfigError
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK
from tests.helpers import start_cli

pytestmark = pytest.mark.slow


def start_sweep(tmp_path, *overrides):
    return start_cli(*QUICK, *overrides, f"hydra.run.dir={tmp_path}/out", cwd=tmp_path)


def trials(uri):
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("covtype-dtree")
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], "tags.`sweep.role` = 'trial'")


def wait_for(condition, process, timeout=240):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the sweep ended early: {process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("timed out waiting for the sweep")
        time.sleep(0.3)


def parent_of(uri):
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("covtype-dtree")
    [parent] = client.search_runs([experiment.experiment_id], "tags.`sweep.role` = 'parent'")
    return parent


@pytest.mark.core
def test_killed_sweep_resumes_to_exactly_max_evals(tmp_path, tracking_uri, compose_cfg, spark):
    process = start_sweep(tmp_path, "sweep.max_evals=6")
    wait_for(lambda: sum(r.info.status == "FINISHED" for r in trials(tracking_uri)) >= 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before = {r.info.run_id: r for r in trials(tracking_uri) if r.info.status == "FINISHED"}
    parent = parent_of(tracking_uri)
    assert parent.info.status == "RUNNING"  # a crash leaves it so; resume closes it

    cfg = compose_cfg(*QUICK, "sweep.max_evals=6", f"sweep.resume={parent.info.run_id}")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))

    runs = trials(tracking_uri)
    finished = [r for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == 6
    assert not [r for r in runs if r.info.status == "RUNNING"]
    numbers = [int(r.data.tags["sweep.trial"]) for r in runs]
    assert len(numbers) == len(set(numbers))
    for run_id, old in before.items():  # completed children untouched
        now = MlflowClient(tracking_uri).get_run(run_id)
        assert (now.data.params, now.data.metrics, now.info.end_time) == (
            old.data.params,
            old.data.metrics,
            old.info.end_time,
        )
    assert parent_of(tracking_uri).info.status == "FINISHED"
    client = MlflowClient(tracking_uri)  # each trial at its depth curve's best (sweep.curves)
    curve = "accuracy_by_depth"
    best = max(finished, key=lambda r: max(
        m.value for m in client.get_metric_history(r.info.run_id, curve)))  # fmt: skip
    assert result.best.run_id == best.info.run_id
    assert result.parent_run_id == parent.info.run_id
    # The UI's story goes on: names by number and configuration, one best-so-far step per trial.
    assert all(
        r.info.run_name.startswith(f"t{int(r.data.tags['sweep.trial']):02d} d") for r in runs
    )
    history = MlflowClient(tracking_uri).get_metric_history(
        parent.info.run_id, "best_so_far_accuracy"
    )
    steps = sorted(history, key=lambda m: m.step)
    assert {int(r.data.tags["sweep.trial"]) for r in finished} <= {m.step for m in steps}
    assert [m.value for m in steps] == sorted(m.value for m in steps)
    assert steps[-1].value == result.best.metrics["accuracy"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_runs_killed_and_says_how_to_resume(tmp_path, tracking_uri, signum, code):
    process = start_sweep(tmp_path, "sweep.max_evals=40")
    wait_for(
        lambda: (
            any(r.info.status == "FINISHED" for r in trials(tracking_uri))
            and any(r.info.status == "RUNNING" for r in trials(tracking_uri))
        ),
        process,
    )
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr[-3000:]
    parent = parent_of(tracking_uri)
    assert parent.info.status == "KILLED"
    assert parent.data.tags["sweep.end_reason"] == "interrupted"
    assert f"sweep.resume={parent.info.run_id}" in stderr and "Traceback" not in stderr
    statuses = [r.info.status for r in trials(tracking_uri)]
    assert "RUNNING" not in statuses and "FINISHED" in statuses
    assert statuses.count("KILLED") <= 1


def test_resume_refuses_another_search_space_or_data_unless_forced(compose_cfg, spark):
    cfg = compose_cfg(*QUICK, "sweep.max_evals=2")
    first = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    resume = f"sweep.resume={first.parent_run_id}"
    with pytest.raises(ConfigError, match=r"sweep.resume: cannot resume .* search space differs"):
        run_sweep(
            compose_cfg(*QUICK, resume, "search.max_depth.high=6"),
            spark,
            Tracker.connect(cfg.tracking),
        )
    with pytest.raises(ConfigError, match=r"the data differs .*resume_force=true"):
        run_sweep(
            compose_cfg(*QUICK, resume, "data.rows=2500"), spark, Tracker.connect(cfg.tracking)
        )
    other_encoding = compose_cfg(
        *QUICK, resume, "data.features=categorical", "search.max_bins.low=40"
    )
    with pytest.raises(ConfigError, match=r"of data.features=onehot as data.features=categorical"):
        run_sweep(other_encoding, spark, Tracker.connect(cfg.tracking))
    forced = compose_cfg(
        *QUICK,
        "sweep.resume=last",
        "sweep.max_evals=3",
        "data.rows=2500",
        "sweep.resume_force=true",
    )
    result = run_sweep(forced, spark, Tracker.connect(forced.tracking))
    assert result.parent_run_id == first.parent_run_id and len(result.trials) == 3
    parent = MlflowClient(cfg.tracking.uri).get_run(first.parent_run_id)
    assert parent.data.params["max_evals"] == "2" and parent.data.tags["updated.max_evals"] == "3"
    # A forced resume into a space that excludes every earlier trial still stops at max_evals
    # in all (TPE cannot learn from those three, but they count).
    moved = compose_cfg(
        *QUICK,
        "sweep.resume=last",
        "sweep.max_evals=4",
        "data.rows=2500",
        "search.max_depth.low=9",
        "search.max_depth.high=12",
        "sweep.resume_force=true",
    )
    result = run_sweep(moved, spark, Tracker.connect(moved.tracking))
    assert len(result.trials) == 4 and int(result.trials[-1].params["maxDepth"]) >= 9


AUTO = (
    "data=synthetic",
    "data.rows=3000",
    "model=auto",
    "search.dtree.max_depth={type:int,low:2,high:6}",
    "search.forest.num_trees={type:int,low:2,high:3}",
    "search.forest.max_depth={type:int,low:2,high:5}",
    "sweep.n_startup_jobs=3",
    "tracking.log_models=none",
    "registry.enabled=false",
)


def test_a_model_auto_sweep_mixes_families_and_resumes_with_tpe_over_both(compose_cfg, spark):
    """TPE's history of a nested space names every label, those of the other family empty: a
    resumed model=auto sweep goes on where it stopped, and its children carry their family."""
    cfg = compose_cfg(*AUTO, "sweep.max_evals=4", "sweep.seed=3")
    first = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    families = {t.family for t in first.trials}
    assert families == {"dtree", "forest"}, families  # seed 3 draws both in 4 random trials

    cfg = compose_cfg(*AUTO, "sweep.max_evals=6", "sweep.seed=3", "sweep.resume=last")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert result.parent_run_id == first.parent_run_id
    assert len(result.trials) == 6 and len(result.finished) == 6
    client = MlflowClient(cfg.tracking.uri)
    parent = client.get_run(result.parent_run_id)
    assert parent.data.params["family"] == "auto"
    assert parent.data.params["best_family"] == result.best.family
    for trial in result.trials:
        child = client.get_run(trial.run_id)
        assert child.data.params["family"] == child.data.tags["sweep.family"] == trial.family
        assert ("numTrees" in child.data.params) == (trial.family == "forest")
        assert child.info.run_name.split()[1] == trial.family  # t03 forest T2 d4 ...
    artifacts = {a.path for a in client.list_artifacts(result.parent_run_id, "plots")}
    assert "plots/parameters.png" in artifacts
    with pytest.raises(ConfigError, match="cannot resume sweep .* of model=auto as model=dtree"):
        dtree = compose_cfg(*QUICK, "sweep.resume=" + result.parent_run_id)
        run_sweep(dtree, spark, Tracker.connect(dtree.tracking))
