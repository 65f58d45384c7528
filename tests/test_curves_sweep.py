"""sweep.curves in real sweeps (local Spark, a real SQLite store): what a child logs, what TPE is
told, the winner refitted at its best depth, resume and the bound notice."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from sweep.curves import DEPTH
from sweep.runner import run_sweep
from sweep.search import observations
from sweep.search.resume import load_history
from sweep.search.space import SearchSpace
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK, SMOKE
from tests.helpers import children


def _curve(client, run_id, key="accuracy_by_depth"):
    return {m.step: m.value for m in client.get_metric_history(run_id, key)}


def test_each_child_logs_its_depth_curve_and_the_winner_is_refitted_at_its_best_depth(
    smoke_sweep, spark
):
    cfg, result, client = smoke_sweep  # max_depth 2..8, sweep.curves.fit=top: every fit at 8
    runs = children(client, result.parent_run_id)
    for child in runs:
        assert child.data.params["maxDepth"] == "8"
        curve = _curve(client, child.info.run_id)
        assert sorted(curve) == list(range(2, 9))  # from search.max_depth.low to the fit's depth
        assert curve[8] == pytest.approx(child.data.metrics["accuracy"], abs=1e-12)
        best = int(child.data.metrics["best_depth"])
        assert curve[best] == max(curve.values()) and best == min(
            d for d, v in curve.items() if v == curve[best]
        )
        assert set(_curve(client, child.info.run_id, "f1_by_depth")) == set(curve)
    depth = result.best.params["maxDepth"]
    mlflow.set_tracking_uri(client.tracking_uri)
    model = mlflow.spark.load_model(result.model_uri)
    assert model.stages[-1].getOrDefault("maxDepth") == depth  # a real Spark model of that depth
    assert result.best.metrics["accuracy"] == pytest.approx(
        _curve(client, result.best.run_id)[depth], abs=1e-12
    )  # its refit scores the curve's point


def test_tpe_is_told_every_point_of_every_curve_and_resume_reads_them_back(
    smoke_sweep, compose_cfg
):
    cfg, result, client = smoke_sweep
    resumed = compose_cfg(*SMOKE, f"sweep.resume={result.parent_run_id}",
                          f"tracking.uri={client.tracking_uri}")  # fmt: skip
    sha256 = client.get_run(result.parent_run_id).data.params["data_sha256"]
    history = load_history(Tracker.open(client.tracking_uri), resumed, sha256)
    seen = observations.of_records(history.finished, SearchSpace.of(resumed), "accuracy")
    assert len(seen) == 4 * 7  # 4 trials, each at depths 2..8
    depths = sorted(o.vals["max_depth"] for o in seen)
    assert depths == sorted(list(range(2, 9)) * 4)
    by_run = {r.run_id: r for r in history.finished}
    for trial in result.trials:
        assert by_run[trial.run_id].curves[DEPTH] == {
            d: {"accuracy": pytest.approx(m["accuracy"], abs=1e-12)}
            for d, m in trial.curves[DEPTH].items()
        }


@pytest.mark.parametrize(
    ("overrides", "fitted"),
    [
        (("sweep.curves.fit=proposed",), None),  # TPE's own depths
        (("search.max_depth.low=5", "search.max_depth.high=5"), 5),  # pinned: a one-point curve
    ],
    ids=["proposed", "pinned"],
)
def test_a_trial_fits_where_the_design_says(spark, compose_cfg, tracking_uri, overrides, fitted):
    cfg = compose_cfg(*QUICK, "sweep.max_evals=3", *overrides)
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(tracking_uri)
    depths = {int(c.data.params["maxDepth"]) for c in children(client, result.parent_run_id)}
    if fitted is None:
        assert len(depths) > 1  # proposed depths differ; each curve ends at its own
    else:
        assert depths == {fitted}
    for child in children(client, result.parent_run_id):
        low = cfg.search["max_depth"].low
        assert sorted(_curve(client, child.info.run_id)) == list(
            range(int(low), int(child.data.params["maxDepth"]) + 1)
        )


def test_a_forest_logs_its_tree_curve_and_its_depth_curve(spark, compose_cfg, tracking_uri):
    cfg = compose_cfg(*QUICK, "model=forest", "search=forest", "sweep.max_evals=2",
                      "search.num_trees.low=2", "search.num_trees.high=4",
                      "search.max_depth.low=3", "search.max_depth.high=5",
                      "search.max_bins.low=8", "search.max_bins.high=16")  # fmt: skip
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(tracking_uri)
    for child in children(client, result.parent_run_id):
        # fit=top raises the depth only: a forest's tree count stays TPE's
        count = int(child.data.params["numTrees"])
        assert 2 <= count <= 4 and child.data.params["maxDepth"] == "5"
        trees = _curve(client, child.info.run_id, "accuracy_by_trees")
        assert sorted(trees) == list(range(2, count + 1)) and "best_num_trees" in child.data.metrics
        assert trees[count] == pytest.approx(child.data.metrics["accuracy"], abs=1e-12)
        assert sorted(_curve(client, child.info.run_id)) == [3, 4, 5]


def test_a_best_on_the_top_of_the_range_is_said_and_tagged(spark, compose_cfg, tracking_uri):
    cfg = compose_cfg(*QUICK, "sweep.max_evals=2", "search.max_depth.low=1",
                      "search.max_depth.high=2")  # fmt: skip
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    parent = MlflowClient(tracking_uri).get_run(result.parent_run_id)
    assert result.best.params["maxDepth"] == 2  # deeper is better on this data
    assert parent.data.tags["sweep.on_bound"] == "maxDepth=2 (top, searched range)"
    note = parent.data.tags["mlflow.note.content"]
    assert "**on a bound**" in note and "search.max_depth.high=4" in note
