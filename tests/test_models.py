"""Model families: each is one module of sweep.models; a forest sweep works as a tree sweep does."""

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from sweep.data.covtype import synthesize
from sweep.models import dtree, families, forest, tables
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests.conftest import SMOKE

FOREST = (*SMOKE, "model=forest", "search.num_trees.low=3", "search.num_trees.high=6")


def test_families_are_found_by_module_and_share_the_tree_parameters():
    assert set(families()) == {"dtree", "forest"}
    assert set(tables()["forest"]) - set(dtree.PARAMS) == {
        "num_trees",
        "feature_subset_strategy",
        "subsampling_rate",
    }
    for module in families().values():
        assert callable(module.estimator) and callable(module.describe) and module.ESTIMATOR


@pytest.mark.slow
def test_a_forest_sweep_logs_forest_figures_registers_and_serves(compose_cfg, spark):
    cfg = compose_cfg(*FOREST, "sweep.max_evals=2")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(cfg.tracking.uri)
    parent = client.get_run(result.parent_run_id)
    assert parent.data.params["family"] == "forest"
    assert client.get_experiment(result.experiment_id).name == "covtype-forest"
    for trial in result.trials:
        child = client.get_run(trial.run_id)
        params, metrics = child.data.params, child.data.metrics
        assert 3 <= int(params["numTrees"]) <= 6
        assert params["featureSubsetStrategy"] in ("sqrt", "onethird", "log2")
        assert 0.5 <= float(params["subsamplingRate"]) <= 1.0
        assert metrics["num_trees"] == int(params["numTrees"])
        assert metrics["total_nodes"] >= metrics["num_trees"]
        assert (
            0 < metrics["mean_tree_depth"] <= metrics["max_tree_depth"] <= int(params["maxDepth"])
        )
    assert (result.registration.name, result.registration.promoted) == ("covtype-forest", True)

    mlflow.set_tracking_uri(cfg.tracking.uri)
    mlflow.set_registry_uri(cfg.tracking.uri)
    uri = "models:/covtype-forest@champion"
    pipeline = mlflow.spark.load_model(uri)
    assert type(pipeline.stages[-1]).__name__ == "RandomForestClassificationModel"
    rows = synthesize(50, seed=3).drop(columns="Cover_Type").astype("int64")
    spark_pred = pipeline.transform(spark.createDataFrame(rows)).toPandas()["prediction"].tolist()
    assert list(mlflow.pyfunc.load_model(uri).predict(rows)) == spark_pred


def test_resuming_a_sweep_as_another_family_is_refused(compose_cfg, spark):
    from sweep.errors import ConfigError

    cfg = compose_cfg(
        *SMOKE, "sweep.max_evals=1", "tracking.log_models=none", "registry.enabled=false"
    )
    first = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    other = compose_cfg(
        *FOREST, f"sweep.resume={first.parent_run_id}", "sweep.resume_force=true",
        f"tracking.experiment={cfg.tracking.experiment}",
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"of model=dtree as model=forest.*Add model=dtree"):
        run_sweep(other, spark, Tracker.connect(other.tracking))


def test_forest_describe_counts_every_tree(spark):
    from pyspark.ml.feature import VectorAssembler

    from sweep.config import ModelSettings

    frame = synthesize(400, seed=1)
    df = VectorAssembler(inputCols=list(frame.columns[:-1]), outputCol="features").transform(
        spark.createDataFrame(frame).withColumnRenamed("Cover_Type", "label")
    )
    fitted = forest.estimator(
        {"numTrees": 4, "maxDepth": 3}, ModelSettings(family="forest"), "features", "label"
    ).fit(df)
    summary = forest.describe(fitted)
    assert summary["num_trees"] == 4
    assert summary["total_nodes"] == sum(t.numNodes for t in fitted.trees)
    assert summary["max_tree_depth"] <= 3
