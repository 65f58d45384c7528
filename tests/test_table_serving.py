"""A table's champion end to end: registered after parity with Spark, loaded as the Spark model
(raw columns in, the user's labels out), and served by `mlflow models serve` without Java."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.spark
import pytest
from mlflow.tracking import MlflowClient

from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests import tables
from tests.services import model_server, post

pytestmark = pytest.mark.slow
MODEL = "models:/penguins-dtree@champion"


@pytest.fixture(scope="module")
def champion(spark, tmp_path_factory, _template_store):
    """One registered 3-trial sweep of the messy penguins CSV in its own store."""
    from hydra import compose, initialize_config_dir

    from sweep.config_checks import load_config
    from tests.conftest import CONF_DIR

    folder = tmp_path_factory.mktemp("penguins")
    db = folder / "mlflow.db"
    shutil.copy(_template_store, db)
    uri = f"sqlite:///{db}"
    path = tables.write_csv(tables.penguins(), folder / "penguins.csv.gz", sep=";")
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = load_config(
            compose(
                config_name="config",
                overrides=[
                    "+experiment=smoke",
                    "data=table",
                    f"data.path={path}",
                    "data.label=species",
                    "+data.options={sep:';'}",
                    "sweep.max_evals=3",
                    f"tracking.uri={uri}",
                    "sweep.progress_bar=false",
                ],  # fmt: skip
            )
        )
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return result, MlflowClient(uri, registry_uri=uri), folder


@pytest.fixture(scope="module")
def raw_rows(champion):
    """Raw rows as a user holds them: text, nulls, a date; plus an island never seen."""
    frame = tables.penguins(rows=40, seed=9).drop(columns=["species"])
    frame.loc[0, "island"] = "Atlantis"
    frame.loc[1, ["bill_length_mm", "island", "tagged", "seen"]] = None
    return frame


def test_the_sweep_names_its_runs_after_the_table_and_logs_its_columns(champion):
    result, client, _ = champion
    assert client.get_experiment(result.experiment_id).name == "penguins-dtree"
    assert result.best.metrics["accuracy"] > 0.8
    columns = Path(client.download_artifacts(result.parent_run_id, "columns.csv")).read_text()
    assert "island,string,categorical" in columns and "id,string,dropped" in columns
    importances = client.download_artifacts(result.best.run_id, "feature_importances.csv")
    assert "bill_length_mm" in Path(importances).read_text()


@pytest.mark.core
def test_the_champion_passed_parity_on_every_test_row(champion):
    result, client, _ = champion
    assert result.registration.promoted
    version = client.get_model_version("penguins-dtree", str(result.registration.version))
    test_rows = result.data_counts["test"]
    assert version.tags["parity"] == f"{test_rows}/{test_rows}"


@pytest.mark.core
def test_the_spark_model_takes_raw_columns_and_gives_the_users_labels(champion, raw_rows, spark):
    model = mlflow.spark.load_model(MODEL)
    spark_rows = raw_rows.astype({"tagged": "boolean"})
    out = model.transform(spark.createDataFrame(spark_rows)).toPandas()
    assert set(out["predicted_label"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    jvm_free = mlflow.pyfunc.load_model(MODEL).predict(raw_rows)
    assert list(jvm_free) == list(out["predicted_label"])


def test_served_without_java_the_table_model_answers_in_labels(champion, raw_rows, spark):
    result, client, folder = champion
    example = raw_rows.head(5).copy()
    example["seen"] = example["seen"].map(lambda d: None if d is None else d.isoformat())
    payload = {"dataframe_records": [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in example.to_dict(orient="records")
    ]}  # fmt: skip
    with model_server(MODEL, client.tracking_uri, folder) as url:
        status, body = post(url, payload)
    assert status == 200, body
    expected = mlflow.pyfunc.load_model(MODEL).predict(raw_rows.head(5))
    assert body["predictions"] == list(expected)
    assert set(body["predictions"]) <= {"Adelie", "Chinstrap", "Gentoo"}
