"""The champion served by the real `mlflow models serve`, over real HTTP on loopback, where the
JVM-free scorer has to do it alone: no `java` on PATH, no JAVA_HOME, and pyspark unimportable."""

import json
import os
import subprocess
import sys

import mlflow
import mlflow.spark
import pandas as pd
import pytest

from sweep.data.covtype import COLUMNS, FEATURES, synthesize
from tests.services import model_server, post, without_java_or_spark

# The UCI file's first row (label 5, Aspen), as the README's curl example sends it.
EXAMPLE_ROW = [2596, 51, 3, 258, 0, 510, 221, 232, 148, 6279, 1, 0, 0, 0,
               *([0] * 28), 1, *([0] * 11), 5]  # fmt: skip

EXAMPLE_RECORD = dict(zip(FEATURES, EXAMPLE_ROW[:54], strict=True))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(smoke_sweep, tmp_path_factory):
    """`mlflow models serve -m models:/covtype-dtree@champion` without Java or pyspark, stopped
    even if a test fails."""
    cfg, result, client = smoke_sweep
    folder = tmp_path_factory.mktemp("serve")
    with model_server("models:/covtype-dtree@champion", client.tracking_uri, folder) as url:
        yield url


@pytest.fixture(scope="module")
def spark_model(smoke_sweep):
    cfg, result, client = smoke_sweep
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_registry_uri(client.tracking_uri)
    return mlflow.spark.load_model("models:/covtype-dtree@champion")


def spark_predictions(spark, model, rows):
    return model.transform(spark.createDataFrame(rows)).toPandas()["prediction"].tolist()


@pytest.fixture(scope="module")
def rows_and_expected(spark, spark_model):
    """Rows and what the Spark flavor of the same model predicts for them."""
    rows = synthesize(20, seed=5)[FEATURES].astype("int64")
    return rows, spark_predictions(spark, spark_model, rows)


def test_dataframe_split_and_records_match_spark(server, rows_and_expected):
    rows, expected = rows_and_expected
    split = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    records = {"dataframe_records": rows.to_dict(orient="records")}
    for payload in (split, records):
        status, body = post(server, payload)
        assert status == 200, body
        assert body["predictions"] == expected


def test_the_readme_row_with_its_label_column_scores_as_spark(server, spark, spark_model):
    status, body = post(server, {"dataframe_split": {"columns": COLUMNS, "data": [EXAMPLE_ROW]}})
    assert status == 200, body
    row = pd.DataFrame([EXAMPLE_ROW[:54]], columns=FEATURES)
    assert body["predictions"] == spark_predictions(spark, spark_model, row)


def test_probabilities_are_one_request_parameter_away(server, rows_and_expected):
    rows, expected = rows_and_expected
    payload = {
        "dataframe_split": json.loads(rows.to_json(orient="split", index=False)),
        "params": {"output": "probability"},
    }
    status, body = post(server, payload)
    assert status == 200, body
    got = body["predictions"]
    assert [r["prediction"] for r in got] == expected
    for r in got:
        assert len(r["probability"]) == 8 and r["probability"][0] == 0  # index = label 1..7
        assert abs(sum(r["probability"]) - 1) < 1e-9
        assert r["probability"].index(max(r["probability"])) == r["prediction"]
    status, text = post(server, {**payload, "params": {"output": "logits"}})
    assert 400 <= status < 500 and "params.output" in text


# MLflow itself imports the pyspark *package* when it is installed (mlflow/types/schema.py probes
# for it), so "pyspark not in sys.modules" holds only where pyspark cannot be imported. What must
# hold everywhere: no JVM is started, and nothing needs pyspark.
NO_PYSPARK = "assert 'pyspark' not in sys.modules"
NO_JVM = "from pyspark import SparkContext; assert SparkContext._gateway is None, 'a JVM started'"


@pytest.mark.parametrize(
    ("pyspark_importable", "check"), [(False, NO_PYSPARK), (True, NO_JVM)], ids=["absent", "idle"]
)
@pytest.mark.core
def test_the_pyfunc_scores_without_java_and_without_pyspark(
    smoke_sweep, spark, spark_model, tmp_path, pyspark_importable, check
):
    cfg, result, client = smoke_sweep
    code = (
        "import sys, mlflow, pandas as pd; "
        "m = mlflow.pyfunc.load_model('models:/covtype-dtree@champion'); "
        f"print(m.predict(pd.DataFrame([{EXAMPLE_ROW[:54]}], columns={FEATURES!r}))[0]); "
        f"{check}"
    )
    uri = client.tracking_uri
    env = without_java_or_spark(tmp_path, MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri)
    if pyspark_importable:
        env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    row = pd.DataFrame([EXAMPLE_ROW[:54]], columns=FEATURES)
    assert [float(done.stdout.split()[-1])] == spark_predictions(spark, spark_model, row)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            {"dataframe_split": {"columns": FEATURES[1:], "data": [EXAMPLE_ROW[1:54]]}},
            "application/json",
            "Elevation",
        ),
        (
            {
                "dataframe_records": [
                    {**dict(zip(FEATURES, EXAMPLE_ROW[:54], strict=True)), "Elevation": "high"}
                ]
            },
            "application/json",
            "Elevation",
        ),
        (b"", "application/json", ""),
        (b"this is not json", "application/json", "JSON"),
        ({"instances": "nope", "dataframe_split": {}}, "application/json", ""),
    ],
    ids=["missing column", "wrong type", "empty body", "not JSON", "two formats"],
)
def test_bad_payloads_get_a_4xx_with_a_message(server, body, content_type, message):
    status, text = post(server, body, content_type)
    assert 400 <= status < 500, (status, text)
    assert message.lower() in str(text).lower()


def test_unsupported_content_type_is_refused(server):
    status, text = post(server, b"a,b\n1,2", "text/plain")
    assert 400 <= status < 500
