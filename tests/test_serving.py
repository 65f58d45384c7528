"""The champion served by the real `mlflow models serve`, over real HTTP on loopback, where the
JVM-free scorer has to do it alone: no `java` on PATH, no JAVA_HOME, and pyspark unimportable."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import mlflow.spark
import pandas as pd
import pytest

from sweep.data.covtype import COLUMNS, FEATURES, synthesize

# The UCI file's first row (label 5, Aspen), as the README's curl example sends it.
EXAMPLE_ROW = [2596, 51, 3, 258, 0, 510, 221, 232, 148, 6279, 1, 0, 0, 0,
               *([0] * 28), 1, *([0] * 11), 5]  # fmt: skip

EXAMPLE_RECORD = dict(zip(FEATURES, EXAMPLE_ROW[:54], strict=True))

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def without_java_or_spark(folder: Path, **extra: str) -> dict[str, str]:
    """This environment minus Java (PATH entries holding `java`, JAVA_HOME, SPARK_HOME), with a
    `pyspark` that fails to import first on PYTHONPATH, as on a host where neither is installed."""
    blocker = folder / "no-pyspark" / "pyspark"
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "__init__.py").write_text("raise ImportError('pyspark is not installed here')\n")
    bin_dir = str(Path(sys.executable).parent)  # mlflow runs uvicorn from PATH
    path = [
        shadow_without_java(d, folder / "path" / str(i)) if has_java(d) else d
        for i, d in enumerate(os.environ.get("PATH", "").split(os.pathsep))
        if d
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    python_path = [str(blocker.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        PATH=os.pathsep.join([bin_dir, *path]), PYTHONPATH=os.pathsep.join(python_path), **extra
    )
    assert shutil.which("java", path=env["PATH"]) is None
    return env


def has_java(directory: str) -> bool:
    return os.access(os.path.join(directory, "java"), os.X_OK)


def shadow_without_java(directory: str, shadow: Path) -> str:
    """A folder of links to everything in `directory` but `java` (/usr/bin also holds bash)."""
    shadow.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(directory):
        if entry.name != "java" and not (shadow / entry.name).exists():
            (shadow / entry.name).symlink_to(entry.path)
    return str(shadow)


@pytest.fixture(scope="module")
def server(smoke_sweep, tmp_path_factory):
    """`mlflow models serve -m models:/covtype-dtree@champion` without Java or pyspark, stopped
    even if a test fails."""
    cfg, result, client = smoke_sweep
    port = free_port()
    folder = tmp_path_factory.mktemp("serve")
    log_path = folder / "serve.log"
    uri = client.tracking_uri
    env = without_java_or_spark(folder, MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "models",
                "serve",
                "-m",
                "models:/covtype-dtree@champion",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        deadline = started + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}): {log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/ping", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no /ping answer in 180 s: {log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        # The Spark flavor's server took ~26 s here (a SparkSession first); loose for busy CI.
        seconds = time.monotonic() - started
        assert seconds < 30, f"/ping answered after {seconds:.1f} s"
        assert "SparkSession" not in log_path.read_text()
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def post(url, body, content_type="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=data, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


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
