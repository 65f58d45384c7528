"""Part `scoring` of bench/benchmark.py: the JVM-free scorer against the Spark pyfunc, one run.

    python bench/benchmark.py --data ../shared/data/covtype/covtype-full.data.gz --parts scoring

Fits one full-data depth-30 tree exactly as a sweep's trial does (the best configuration of the
overhead part: maxDepth 30, maxBins 139, entropy), then measures
- the export's cost: the same model logged by `mlflow.spark.log_model` (before issue 13) and by
  `Tracker.log_model` (Spark flavor + trees.npz), and the export step alone;
- agreement with Spark's own `transform` on the whole test split;
- in-process scoring: one row (the scorer; its pyfunc; MLflow's pyfunc with schema checks) and
  100,000 rows;
- both servers, one after the other, Spark stopped first: seconds until `/ping` answers, and the
  latency of single-row requests (`mlflow models serve --env-manager local`; the JVM-free one with
  no `java` on PATH and no JAVA_HOME).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.serve_latency import ROW, measure

PARAMS = {"maxDepth": 30, "maxBins": 139, "impurity": "entropy"}
SERVER_REQUESTS = {"jvm_free": 500, "spark": 100}


def scoring(args: Any, work: Path) -> dict[str, Any]:
    import mlflow

    from sweep.config import DataSettings, ModelSettings, SparkSettings
    from sweep.data.prepare import prepared
    from sweep.spark import spark_session
    from sweep.tracking.runs import Tracker
    from sweep.trial import run_trial

    work.mkdir(parents=True, exist_ok=True)
    tracker = Tracker.open(f"sqlite:///{work / 'mlflow.db'}")
    tracker.experiment_id = tracker.client.create_experiment(
        f"scoring-{time.time():.0f}", artifact_location=(work / "mlruns").as_uri()
    )
    out: dict[str, Any] = {"params": PARAMS}
    settings = DataSettings(source="covtype", path=str(args.data))
    with spark_session(SparkSettings()) as spark, prepared(spark, settings, False) as data:
        trial = run_trial(data.train, data.validation, PARAMS, ModelSettings())
        out["tree"] = {
            "nodes": trial.num_nodes,
            "depth": trial.tree_depth,
            "fit_seconds": round(trial.fit_seconds, 1),
        }
        out["log"], uris = _log_both(tracker, trial.pipeline(), data.example)
        test, spark_labels = _spark_test_predictions(data.test, trial.tree)
    model = mlflow.pyfunc.load_model(uris["jvm_free"])
    labels = model.predict(test)
    out["agreement"] = {
        "rows": len(test),
        "identical": int((labels == spark_labels).sum()),
    }
    out["in_process"] = _in_process(model, test)
    out["servers"] = {
        name: _serve(uris[name], tracker.uri, work / name, n, no_java=name == "jvm_free")
        for name, n in SERVER_REQUESTS.items()
    }
    return out


def _log_both(tracker, pipeline, example) -> tuple[dict[str, Any], dict[str, str]]:
    """The same model logged the old way (Spark flavor only) and the new way, each timed."""
    import mlflow
    import mlflow.spark
    import pyspark

    from sweep.tracking.servable import signature

    with tracker.run("spark-only", {}) as run_id, mlflow.start_run(run_id=run_id):
        started = time.perf_counter()
        spark_uri = mlflow.spark.log_model(
            pipeline,
            "model",
            signature=signature(example.columns),
            input_example=example,
            pip_requirements=[f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"],
        ).model_uri
        spark_seconds = time.perf_counter() - started
    with tracker.run("jvm-free", {}) as run_id:
        started = time.perf_counter()
        uri = tracker.log_model(run_id, pipeline, example)
        seconds = time.perf_counter() - started
    meta = mlflow.models.get_model_info(uri).metadata["treescore"]
    figures = {
        "spark_log_model_seconds": round(spark_seconds, 2),
        "log_model_seconds": round(seconds, 2),
        "export_seconds": meta["export_seconds"],
        "nodes": meta["nodes"],
        "trees_npz_bytes": _artifact_size(uri, "trees.npz"),
    }
    return figures, {"jvm_free": uri, "spark": spark_uri}


def _artifact_size(uri: str, name: str) -> int:
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(f"{uri}/{name}")).stat().st_size


def _spark_test_predictions(test_split, tree) -> tuple[pd.DataFrame, np.ndarray]:
    """The test split as the 54 raw int64 columns, and Spark's predictions for it, same order."""
    from pyspark.ml.functions import vector_to_array

    from sweep.data.covtype import FEATURES

    rows = (
        tree.transform(test_split)
        .select(vector_to_array("features").alias("x"), "prediction")
        .toPandas()
    )
    frame = pd.DataFrame(np.stack(rows["x"]), columns=FEATURES).astype("int64")
    return frame, rows["prediction"].to_numpy()


def _in_process(model, test: pd.DataFrame) -> dict[str, Any]:
    from mlflow.pyfunc import scoring_server

    from sweep.data.covtype import FEATURES

    impl = model._model_impl  # treescore.PyfuncModel: what MLflow's wrapper calls
    scorer = impl.scorer
    row = pd.DataFrame([ROW], columns=FEATURES)
    x_row = row.to_numpy(np.float64)
    big = pd.concat([test] * (100_000 // len(test) + 1), ignore_index=True).head(100_000)
    body = json.dumps({"dataframe_split": {"columns": FEATURES, "data": [ROW]}})
    schema = model.metadata.get_input_schema()
    return {
        # The scoring server's handler without HTTP: MLflow parses the JSON into a DataFrame,
        # casts each of the 54 columns, enforces the schema, then calls the model.
        "one_row_server_handler_ms": _ms(
            lambda: scoring_server.invocations(body, "application/json", model, schema), 500
        ),
        "one_row_scorer_ms": _ms(lambda: scorer.predict(x_row), 5000),
        "one_row_pyfunc_impl_ms": _ms(lambda: impl.predict(row), 5000),
        "one_row_mlflow_pyfunc_ms": _ms(lambda: model.predict(row), 1000),
        "rows_100k_scorer_ms": _ms(lambda: scorer.predict(big.to_numpy(np.float64)), 5),
        "rows_100k_pyfunc_impl_ms": _ms(lambda: impl.predict(big), 5),
        "rows_100k_mlflow_pyfunc_ms": _ms(lambda: model.predict(big), 5),
    }


def _ms(call, repeat: int) -> float:
    """Median wall time of `call`, in milliseconds, after one untimed call."""
    call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 4)


def _serve(uri: str, tracking: str, folder: Path, requests: int, no_java: bool) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = _env(folder, no_java, MLFLOW_TRACKING_URI=tracking, MLFLOW_REGISTRY_URI=tracking)
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri,
               "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with open(folder / "serve.log", "w") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError((folder / "serve.log").read_text()[-2000:])
            try:
                urllib.request.urlopen(f"{url}/ping", timeout=2).close()
                break
            except OSError:
                time.sleep(0.05)
        ping_seconds = time.monotonic() - started
        return {"ping_seconds": round(ping_seconds, 2), **measure(url, requests)}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _env(folder: Path, no_java: bool, **extra: str) -> dict[str, str]:
    """This environment (with the venv's bin first on PATH, for uvicorn); with `no_java`, minus
    JAVA_HOME, SPARK_HOME and every `java` on PATH (folders holding one are shadowed by links to
    their other entries)."""
    paths = [str(Path(sys.executable).parent), *os.environ.get("PATH", "").split(os.pathsep)]
    env = {**os.environ, **extra}
    if no_java:
        env.pop("JAVA_HOME", None)
        env.pop("SPARK_HOME", None)
        paths = [_shadow(p, folder / "path" / str(i)) for i, p in enumerate(paths) if p]
        assert shutil.which("java", path=os.pathsep.join(paths)) is None
    env["PATH"] = os.pathsep.join(paths)
    return env


def _shadow(directory: str, shadow: Path) -> str:
    if not os.access(os.path.join(directory, "java"), os.X_OK):
        return directory
    shadow.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(directory):
        if entry.name != "java" and not (shadow / entry.name).exists():
            (shadow / entry.name).symlink_to(entry.path)
    return str(shadow)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
