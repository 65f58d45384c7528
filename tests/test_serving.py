"""The champion served by the real `mlflow models serve`, over real HTTP on loopback."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import pytest

from sweep.covtype import COLUMNS, FEATURES, synthesize

# The UCI file's first row (label 5, Aspen), as the README's curl example sends it.
EXAMPLE_ROW = [2596, 51, 3, 258, 0, 510, 221, 232, 148, 6279, 1, 0, 0, 0,
               *([0] * 28), 1, *([0] * 11), 5]  # fmt: skip

EXAMPLE_RECORD = dict(zip(FEATURES, EXAMPLE_ROW[:54], strict=True))

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(smoke_sweep, tmp_path_factory):
    """`mlflow models serve -m models:/covtype-dtree@champion`, stopped even if a test fails."""
    cfg, result, client = smoke_sweep
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    bin_dir = str(Path(sys.executable).parent)  # mlflow runs uvicorn from PATH
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": client.tracking_uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
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
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}): {log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/ping", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no /ping answer in 180 s: {log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
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
def rows_and_expected(smoke_sweep):
    cfg, result, client = smoke_sweep
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_registry_uri(client.tracking_uri)
    rows = synthesize(20, seed=5)[FEATURES].astype("int64")
    expected = list(mlflow.pyfunc.load_model("models:/covtype-dtree@champion").predict(rows))
    return rows, expected


def test_dataframe_split_and_records_match_pyfunc(server, rows_and_expected):
    rows, expected = rows_and_expected
    split = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    records = {"dataframe_records": rows.to_dict(orient="records")}
    for payload in (split, records):
        status, body = post(server, payload)
        assert status == 200, body
        assert body["predictions"] == expected


def test_example_row_with_its_label_column_still_scores(server):
    status, body = post(server, {"dataframe_split": {"columns": COLUMNS, "data": [EXAMPLE_ROW]}})
    assert status == 200, body
    assert len(body["predictions"]) == 1 and body["predictions"][0] in range(1, 8)


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
