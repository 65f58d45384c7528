"""The logged model: Spark's flavor for clusters, a JVM-free pyfunc for everything else.

One directory, one model URI:
- `spark` flavor, `sparkml/`: exactly what `mlflow.spark.save_model` writes, so
  `mlflow.spark.load_model(uri)` still returns the PipelineModel (batch scoring on a cluster);
- `python_function` flavor: `loader_module: treescore`, `data: trees.npz`, `code: code` (the scorer
  module itself, shipped with the model), so `mlflow.pyfunc.load_model(uri)` and
  `mlflow models serve -m uri` score with NumPy: no pyspark import, no Java;
- `requirements.txt` / `python_env.yaml` / `conda.yaml`: what the pyfunc needs (MLflow, NumPy,
  pandas), not pyspark, so an environment MLflow builds from them to serve the model is small. The
  Spark flavor records `pyspark_version`; whoever loads it on a cluster has Spark already.

Why a flavor module with its own `save_model`: `log_model` saves the whole directory locally with it
(public `mlflow.spark.save_model` plus the scorer), then uploads it with the public
`MlflowClient.log_artifacts` as the run's `model/` folder. The URI stays `runs:/<run>/model`, so
`mlflow.spark.load_model`, `mlflow.pyfunc.load_model`, the registry's source and `sweep.select`'s
lookup are as before, and no private MLflow function ties us to one MLflow release.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import Model, ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

from sweep import export, treescore

log = logging.getLogger(__name__)
ARTIFACT_PATH = "model"
TREES_FILE = "trees.npz"
LOADER_MODULE = "treescore"  # the name `sweep/treescore.py` has inside the model's code/ folder
SERVE_REQUIREMENTS = [f"mlflow=={mlflow.__version__}", "numpy>=1.26", "pandas>=2.2,<3"]


def save_model(
    spark_model: Any,
    path: str,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: pd.DataFrame | None = None,
    **kwargs: Any,
) -> None:
    """Save the Spark flavor, export its trees beside it, point the pyfunc flavor at them."""
    import mlflow.spark

    mlflow_model = mlflow_model or Model()
    mlflow.spark.save_model(
        spark_model,
        path,
        mlflow_model=mlflow_model,
        code_paths=[treescore.__file__],
        signature=signature,
        input_example=input_example,
        pip_requirements=SERVE_REQUIREMENTS,  # explicit: inferring them loads the model (~30 s)
        **kwargs,
    )
    started = time.perf_counter()
    trees = export.from_saved_pipeline(Path(path) / "sparkml")
    treescore.save(trees, Path(path) / TREES_FILE)
    seconds = time.perf_counter() - started
    use_scorer(mlflow_model, trees, seconds)
    mlflow_model.model_size_bytes = _size(path)
    mlflow_model.save(os.path.join(path, "MLmodel"))
    log.info(
        "Exported %d nodes in %d tree(s) in %.2f s", trees.num_nodes, len(trees.roots), seconds
    )


def use_scorer(mlflow_model: Model, trees: treescore.Trees, seconds: float) -> None:
    """Point the pyfunc flavor (written by mlflow.spark) at `trees.npz` and the shipped scorer;
    its code folder and environment files stay where mlflow.spark put them."""
    flavor = mlflow_model.flavors["python_function"]
    flavor.update(loader_module=LOADER_MODULE, data=TREES_FILE)
    mlflow_model.metadata = {
        **(mlflow_model.metadata or {}),
        "treescore": {
            "format": treescore.format_of(trees),
            "kind": trees.kind,
            "trees": len(trees.roots),
            "nodes": trees.num_nodes,
            "export_seconds": round(seconds, 3),
        },
    }


def log_model(
    run_id: str,
    spark_model: Any,
    signature: ModelSignature,
    example: pd.DataFrame,
    client: MlflowClient | None = None,
) -> str:
    """Log on run `run_id` (finished or not: nothing reopens it); returns the model URI
    (`runs:/<run>/model`). `client`: the store to log to (default: the current tracking URI)."""
    client = client or MlflowClient()
    with tempfile.TemporaryDirectory(prefix="sweep-model-") as tmp:
        local = os.path.join(tmp, ARTIFACT_PATH)
        save_model(
            spark_model,
            local,
            mlflow_model=Model(run_id=run_id, artifact_path=ARTIFACT_PATH),
            signature=signature,
            input_example=example,
        )
        client.log_artifacts(run_id, local, ARTIFACT_PATH)
    return f"runs:/{run_id}/{ARTIFACT_PATH}"


def _size(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def signature(columns: Any) -> ModelSignature:
    """54 integer inputs (long: JSON requests carry int64) → one double `prediction`; the
    `output` parameter ("prediction" or "probability") asks the JVM-free scorer for Spark's
    probability vector too."""
    return ModelSignature(
        inputs=Schema([ColSpec("long", c) for c in columns]),
        outputs=Schema([ColSpec("double", "prediction")]),
        params=ParamSchema([ParamSpec("output", "string", "prediction")]),
    )
