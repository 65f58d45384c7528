"""The sweep end to end, in-process: real local Spark, a real SQLite MLflow store."""

import json
import re

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK, SMOKE


def sweep_runs(client, result):
    runs = client.search_runs([result.experiment_id], order_by=["attributes.start_time ASC"])
    parent = [r for r in runs if r.info.run_id == result.parent_run_id]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == result.parent_run_id]
    return parent[0], children


@pytest.mark.core
def test_one_parent_and_one_finished_child_per_trial(smoke_sweep):
    cfg, result, client = smoke_sweep
    parent, children = sweep_runs(client, result)
    assert parent.info.status == "FINISHED" and parent.info.run_name == "smoke-sweep"
    assert len(children) == cfg.sweep.max_evals == len(result.trials)
    assert all(c.info.status == "FINISHED" for c in children)
    assert sorted(int(c.data.tags["sweep.trial"]) for c in children) == list(range(4))
    assert {c.info.experiment_id for c in children} == {parent.info.experiment_id}


def test_children_carry_exact_spark_params_metrics_and_importances(smoke_sweep):
    cfg, result, client = smoke_sweep
    _, children = sweep_runs(client, result)
    for child in children:
        params = child.data.params
        assert set(params) == {"family", "features", "maxDepth", "maxBins", "impurity"}
        assert params["family"] == child.data.tags["sweep.family"] == "dtree"
        assert params["features"] == "onehot"  # data.features: every child records its encoding
        assert params["maxDepth"].isdigit() and params["maxBins"].isdigit()  # ints, not "7.0"
        assert 2 <= int(params["maxDepth"]) <= 8 and 8 <= int(params["maxBins"]) <= 64
        metrics = child.data.metrics
        assert {
            "accuracy",
            "f1",
            "weightedPrecision",
            "weightedRecall",
            "fit_seconds",
            "num_nodes",
            "tree_depth",
        } <= set(metrics)
        assert 0 < metrics["accuracy"] <= 1 and metrics["tree_depth"] <= int(params["maxDepth"])
        local = client.download_artifacts(child.info.run_id, "feature_importances.csv")
        importances = pd.read_csv(local)
        assert list(importances.columns) == ["feature", "importance"] and len(importances) == 54


def test_parent_records_config_space_data_best_and_test_metrics(smoke_sweep):
    cfg, result, client = smoke_sweep
    parent, children = sweep_runs(client, result)
    # sweep.curves: each child's best is the best point of its depth curve, the winner the best
    # point over every child's curve, refitted at exactly that depth
    curves = {
        c.info.run_id: {m.step: m.value for m in client.get_metric_history(c.info.run_id,
                                                                           "accuracy_by_depth")}
        for c in children
    }  # fmt: skip
    best_child = max(children, key=lambda c: max(curves[c.info.run_id].values()))
    depth = int(best_child.data.metrics["best_depth"])
    p = parent.data
    assert p.tags["sweep.best_run_id"] == best_child.info.run_id == result.best.run_id
    assert p.params["best_maxDepth"] == str(depth)
    assert curves[best_child.info.run_id][depth] == max(curves[best_child.info.run_id].values())
    assert p.metrics["best_accuracy"] == pytest.approx(
        curves[best_child.info.run_id][depth], abs=1e-12
    )
    assert {"test_accuracy", "test_f1", "test_weightedPrecision", "test_weightedRecall"} <= set(
        p.metrics
    )
    assert p.params["seed"] == "0" and p.params["data_source"].startswith("synthetic(rows=3000")
    assert len(p.params["data_sha256"]) == 64
    assert sum(int(p.params[f"rows_{s}"]) for s in ("train", "validation", "test")) == 3000
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"config.yaml", "search_space.yaml", "trials.csv"} <= artifacts
    trials = pd.read_csv(client.download_artifacts(parent.info.run_id, "trials.csv"))
    assert len(trials) == 4 and set(trials["status"]) == {"ok"}
    assert "max_depth" in p.tags["sweep.search_space"]


@pytest.mark.core
def test_best_model_is_logged_once_and_scores_raw_rows(smoke_sweep, spark):
    cfg, result, client = smoke_sweep
    parent, children = sweep_runs(client, result)
    with_model = [
        c for c in children if "model" in {a.path for a in client.list_artifacts(c.info.run_id)}
    ]
    assert [c.info.run_id for c in with_model] == [result.best.run_id]
    assert parent.data.tags["sweep.best_model_uri"] == result.model_uri
    mlflow.set_tracking_uri(client.tracking_uri)
    model = mlflow.spark.load_model(result.model_uri)
    from sweep.data.covtype import synthesize

    raw = synthesize(50, seed=9)
    predictions = model.transform(spark.createDataFrame(raw.drop(columns="Cover_Type")))
    assert {r["prediction"] for r in predictions.collect()} <= {float(c) for c in range(1, 8)}
    pyfunc = mlflow.pyfunc.load_model(result.model_uri)
    assert pyfunc.metadata.get_input_schema().input_names()[0] == "Elevation"


def test_log_models_none_logs_no_model(compose_cfg, spark):
    cfg = compose_cfg(*SMOKE, "sweep.max_evals=2", "tracking.log_models=none")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(cfg.tracking.uri)
    assert result.model_uri is None
    for trial in result.trials:
        assert "model" not in {a.path for a in client.list_artifacts(trial.run_id)}


def test_same_seed_same_trials_different_seed_different_trials(compose_cfg, spark):
    def params_of(seed):
        cfg = compose_cfg(
            *SMOKE, "sweep.max_evals=3", f"sweep.seed={seed}", "tracking.log_models=none"
        )
        result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
        return [(t.params, t.metrics) for t in result.trials]

    first = params_of(1)
    assert params_of(1) == first
    assert [p for p, _ in params_of(2)] != [p for p, _ in first]


def test_the_ui_story_reads_back_through_mlflows_api(smoke_sweep):
    """What `mlflow ui` shows comes from these: inputs, source tags, run names, descriptions, the
    stepped best-so-far metric and the experiment-kind tag (see tests/test_mlflow_ui.py)."""
    cfg, result, client = smoke_sweep
    parent, children = sweep_runs(client, result)
    for run in [parent, *children]:
        inputs = run.inputs.dataset_inputs
        contexts = [t.value for i in inputs for t in i.tags if t.key == "mlflow.data.context"]
        assert sorted(contexts) == ["test", "train", "validation"]
        assert {i.dataset.name for i in inputs} == {"synthetic-covtype"}
        assert (
            json.loads(inputs[0].dataset.profile)["file_sha256"]
            == parent.data.params["data_sha256"]
        )
        tags = run.data.tags
        assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.source.name"]
        assert re.fullmatch(r"[0-9a-f]{40}", tags.get("mlflow.source.git.commit", "0" * 40))
    for child in children:
        number = int(child.data.tags["sweep.trial"])
        p = child.data.params
        name = f"t{number:02d} d{p['maxDepth']} b{p['maxBins']} {p['impurity']}"
        assert child.info.run_name == name
    note = parent.data.tags["mlflow.note.content"]
    best = ", ".join(f"{k}={v}" for k, v in {"family": "dtree", **result.best.params}.items())
    assert f"best parameters: {best}" in note and "| trial | validation accuracy |" in note
    assert f"{result.registration.name} v{result.registration.version}" in note
    assert "ended by max_evals" in note
    history = client.get_metric_history(result.parent_run_id, "best_so_far_accuracy")
    assert [m.step for m in history] == list(range(cfg.sweep.max_evals))
    values = [m.value for m in history]
    assert values == sorted(values) and values[-1] == result.best.metrics["accuracy"]
    version = client.get_model_version(result.registration.name, result.registration.version)
    assert f"sweep {result.parent_run_id}" in version.description
    assert f"#/experiments/{result.experiment_id}/runs/{result.parent_run_id}" in (
        version.description
    )
    experiment = client.get_experiment(result.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_a_pinned_parameter_reaches_spark_and_every_child_as_that_value(compose_cfg, spark):
    cfg = compose_cfg(
        *QUICK, "sweep.max_evals=2", "search.max_depth.low=3", "search.max_depth.high=3"
    )
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(cfg.tracking.uri)
    children = [client.get_run(t.run_id) for t in result.trials]
    assert [c.data.params["maxDepth"] for c in children] == ["3", "3"]
    assert len({c.data.params["maxBins"] for c in children}) == 2  # the others are searched
    assert all(c.data.metrics["tree_depth"] <= 3 for c in children)
