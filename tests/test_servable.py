"""The logged model's directory: both flavors under one URI, the scorer shipped inside, and
requirements that do not pull Spark."""

import re
from pathlib import Path

import mlflow
import mlflow.spark
import pytest
import yaml
from pyspark.ml import PipelineModel

from sweep import treescore
from sweep.data.covtype import FEATURES

pytestmark = pytest.mark.slow


@pytest.fixture
def champion(smoke_sweep, tmp_path):
    """The smoke sweep's logged model, downloaded; MLflow pointed at that sweep's store."""
    cfg, result, client = smoke_sweep
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_registry_uri(client.tracking_uri)
    return result, Path(mlflow.artifacts.download_artifacts(result.model_uri, dst_path=tmp_path))


@pytest.mark.core
def test_the_model_keeps_its_uri_and_both_flavors(champion):
    result, folder = champion
    assert result.model_uri == f"runs:/{result.best.run_id}/model"  # as before: select finds it
    flavors = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]
    assert flavors["spark"]["model_data"] == "sparkml"
    pyfunc = flavors["python_function"]
    assert (pyfunc["loader_module"], pyfunc["data"]) == ("treescore", "trees.npz")
    assert sorted(p.name for p in (folder / pyfunc["code"]).iterdir()) == ["treescore"]
    assert isinstance(mlflow.spark.load_model(result.model_uri), PipelineModel)


@pytest.mark.core
def test_the_arrays_describe_the_logged_tree(champion):
    result, folder = champion
    trees = treescore.load(folder / "trees.npz")
    assert trees.columns == tuple(FEATURES) and trees.kind == treescore.TREE
    info = mlflow.models.get_model_info(result.model_uri)
    assert info.metadata["treescore"]["nodes"] == trees.num_nodes
    assert info.metadata["treescore"]["format"] == treescore.FORMAT


@pytest.mark.core
def test_requirements_are_the_scorers_not_sparks(champion):
    _, folder = champion
    requirements = (folder / "requirements.txt").read_text().split()
    names = {re.split(r"[<>=!~]", r)[0] for r in requirements}
    assert names == {"mlflow", "numpy", "pandas"}, requirements
    assert f"mlflow=={mlflow.__version__}" in requirements


@pytest.mark.core
def test_the_public_api_fallback_logs_the_same_servable_model(smoke_sweep, spark, tracking_uri):
    """Where MLflow lacks `Model._log_v2`, `log_model` uploads the directory through public API:
    the same two flavors under `runs:/<run>/model`, scored without Spark as Spark scores."""
    from mlflow.tracking import MlflowClient

    from sweep.data.covtype import synthesize
    from sweep.tracking import servable

    _, result, shared = smoke_sweep
    spark_model = mlflow.spark.load_model(
        f"{shared.get_run(result.best.run_id).info.artifact_uri}/model"
    )
    example = synthesize(5, seed=3)[FEATURES].astype("int64")
    client = MlflowClient(tracking_uri)  # this test's own store, not the shared sweep's
    run = client.create_run(client.create_experiment("fallback"))
    try:
        uri = servable.log_as_artifacts(
            run.info.run_id, spark_model, servable.signature(FEATURES), example, client
        )
    finally:
        client.set_terminated(run.info.run_id)
    assert uri == f"runs:/{run.info.run_id}/model"
    expected = spark_model.transform(spark.createDataFrame(example)).toPandas()["prediction"]
    assert list(mlflow.pyfunc.load_model(uri).predict(example)) == list(expected)
