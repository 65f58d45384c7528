"""`python -m sweep.select`: register the best child of a past sweep, refitting when needed."""

import logging

import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from sweep.errors import SweepError
from sweep.runner import run_sweep
from sweep.select import select
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK, SMOKE


@pytest.fixture
def unregistered_sweep(compose_cfg, spark):
    cfg = compose_cfg(*QUICK, "sweep.max_evals=3")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    return cfg, result


def test_select_refits_logs_and_registers_the_best_child(unregistered_sweep, session, caplog):
    cfg, result = unregistered_sweep
    client = MlflowClient(cfg.tracking.uri)
    assert result.registration is None and client.search_registered_models() == []
    with caplog.at_level(logging.WARNING, logger="sweep.select"):
        reg = select(Tracker.open(cfg.tracking.uri), result.parent_run_id, {}, session)
    assert not [r for r in caplog.records if "refitted tree scores" in r.getMessage()]
    assert reg.promoted and reg.version == 1
    version = client.get_model_version_by_alias("covtype-dtree", "champion")
    assert version.tags["child_run_id"] == result.best.run_id
    assert float(version.tags["test_accuracy"]) == pytest.approx(result.test_metrics["accuracy"])
    assert "model" in {a.path for a in client.list_artifacts(result.best.run_id)}
    # Selecting again reuses the logged model and, equal on test accuracy, keeps promoting.
    again = select(Tracker.open(cfg.tracking.uri), result.parent_run_id, {"alias": "pick"}, session)
    assert again.version == 2 and again.alias == "pick"


def test_unknown_run_id(tracking_uri, session):
    with pytest.raises(SweepError, match=r"no run 'deadbeef'.*Copy the parent run id"):
        select(Tracker.open(tracking_uri), "deadbeef", {}, session)


def test_a_trial_run_is_not_a_sweep_parent(smoke_sweep, session):
    cfg, result, client = smoke_sweep
    child = result.trials[0].run_id
    with pytest.raises(SweepError, match=rf"{child} is not a sweep parent \(a trial of sweep"):
        select(Tracker.open(client.tracking_uri), child, {}, session)


def test_a_sweep_without_finished_children(smoke_sweep, compose_cfg, session):
    cfg = compose_cfg(*SMOKE)
    tracker = Tracker.connect(cfg.tracking)
    with tracker.parent("empty-sweep") as parent_id:
        tracker.log_text(parent_id, OmegaConf.to_yaml(OmegaConf.structured(cfg)), "config.yaml")
    with pytest.raises(SweepError, match=r"has no finished trial with accuracy"):
        select(Tracker.open(cfg.tracking.uri), parent_id, {}, session)
