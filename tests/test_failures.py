"""Failure containment and budgets, with real Spark errors: maxDepth > 30 is refused by Spark's
DecisionTree at fit time (the config check is bypassed on purpose to provoke it)."""

import pytest
from mlflow.tracking import MlflowClient

from sweep.config import ParamSpec
from sweep.errors import AllTrialsFailed, TooManyFailures
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK, SMOKE


def sweep_with_depths(compose_cfg, low, high, *overrides):
    cfg = compose_cfg(*QUICK, *overrides)
    cfg.search = {**cfg.search, "max_depth": ParamSpec("int", low, high)}  # unchecked on purpose
    return cfg


def runs_of(cfg):
    client = MlflowClient(cfg.tracking.uri)
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("sweep.role") == "parent"]
    return client, parents, [r for r in runs if r.data.tags.get("sweep.role") == "trial"]


def test_a_failing_trial_fails_only_its_child(compose_cfg, spark):
    # fit=proposed: each trial fits TPE's depth (fit=top would fit every one at 34, all failing)
    cfg = sweep_with_depths(compose_cfg, 26, 34, "sweep.max_evals=6", "sweep.max_failures=null",
                            "sweep.curves.fit=proposed")  # fmt: skip
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client, [parent], children = runs_of(cfg)
    failed = [c for c in children if c.info.status == "FAILED"]
    finished = [c for c in children if c.info.status == "FINISHED"]
    assert failed and finished and len(children) == 6 and parent.info.status == "FINISHED"
    for child in failed:
        assert int(child.data.params["maxDepth"]) > 30
        assert "maxDepth" in child.data.tags["sweep.error"]
        assert "error.txt" in {a.path for a in client.list_artifacts(child.info.run_id)}
    assert int(result.best.params["maxDepth"]) <= 30
    assert parent.data.metrics["trials_failed"] == len(failed)


def test_max_failures_aborts_and_names_the_first_failure(compose_cfg, spark):
    cfg = sweep_with_depths(compose_cfg, 31, 40, "sweep.max_evals=5", "sweep.max_failures=1")
    with pytest.raises(
        TooManyFailures,
        match=r"2 trials failed, more than sweep.max_failures=1; "
        r"the first \(trial 0\): .*maxDepth",
    ):
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    _, [parent], children = runs_of(cfg)
    assert parent.info.status == "FAILED" and len(children) == 2
    assert parent.data.tags["sweep.end_reason"] == "failures"
    assert "sweep.max_failures" in parent.data.tags["sweep.error"]


def test_a_sweep_where_every_trial_failed_is_an_error(compose_cfg, spark):
    cfg = sweep_with_depths(compose_cfg, 31, 40, "sweep.max_evals=2", "sweep.max_failures=null")
    with pytest.raises(AllTrialsFailed, match=r"all 2 trials failed; the first: .*maxDepth"):
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    _, [parent], children = runs_of(cfg)
    assert parent.info.status == "FAILED" and {c.info.status for c in children} == {"FAILED"}


def test_early_stop_ends_the_sweep_and_says_why(compose_cfg, spark):
    cfg = compose_cfg(*QUICK, "sweep.max_evals=12", "sweep.early_stop_rounds=2")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert result.end_reason == "early_stop" and len(result.trials) < 12
    client, [parent], _ = runs_of(cfg)
    assert parent.data.tags["sweep.end_reason"] == "early_stop"


def test_timeout_ends_the_sweep_and_says_why(compose_cfg, spark):
    cfg = compose_cfg(*QUICK, "sweep.max_evals=50", "sweep.timeout_s=3")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert result.end_reason == "timeout" and 1 <= len(result.trials) < 50
    _, [parent], _ = runs_of(cfg)
    assert parent.data.tags["sweep.end_reason"] == "timeout"


def test_parallel_trials_are_complete_and_correctly_parented(compose_cfg, spark):
    cfg = compose_cfg(*SMOKE, "sweep.max_evals=6", "sweep.parallelism=2")
    assert cfg.spark.conf["spark.scheduler.mode"] == "FAIR"
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client, [parent], children = runs_of(cfg)
    assert parent.info.status == "FINISHED" and len(children) == 6
    assert sorted(int(c.data.tags["sweep.trial"]) for c in children) == list(range(6))
    for child in children:
        assert child.info.status == "FINISHED"
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert {"family", "features", "maxDepth", "maxBins", "impurity"} == set(child.data.params)
        assert {"accuracy", "f1", "fit_seconds", "num_nodes"} <= set(child.data.metrics)
    # the best point of any child's depth curve (sweep.curves), refitted
    best = max(
        m.value
        for c in children
        for m in client.get_metric_history(c.info.run_id, "accuracy_by_depth")
    )
    assert result.best.metrics["accuracy"] == pytest.approx(best, abs=1e-12) and result.model_uri
    history = client.get_metric_history(parent.info.run_id, "best_so_far_accuracy")
    assert sorted(m.step for m in history) == list(range(6)) and max(
        m.value for m in history
    ) == pytest.approx(best, abs=1e-12)


def test_a_trial_error_without_a_message_is_contained(compose_cfg, spark, monkeypatch):
    """`TimeoutError()` has no message; formatting it once raised IndexError and aborted."""
    from sweep import objective

    def no_message(*args, **kwargs):
        raise TimeoutError()

    monkeypatch.setattr(objective, "run_trial", no_message)
    cfg = compose_cfg(*QUICK, "sweep.max_evals=2", "sweep.max_failures=null")
    with pytest.raises(AllTrialsFailed, match=r"all 2 trials failed; the first: TimeoutError"):
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    _, [parent], children = runs_of(cfg)
    assert len(children) == 2 and {c.data.tags["sweep.error"] for c in children} == {"TimeoutError"}
