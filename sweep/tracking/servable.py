"""The logged model: Spark's flavor for clusters, a JVM-free pyfunc for everything else.

One directory, one model URI:
- `spark` flavor, `sparkml/`: exactly what `mlflow.spark.save_model` writes, so
  `mlflow.spark.load_model(uri)` still returns the PipelineModel (batch scoring on a cluster);
- `python_function` flavor: `loader_module: treescore`, `data: trees.npz`, `code: code` (the scorer
  package itself, `code/treescore/`, shipped with the model), so `mlflow.pyfunc.load_model(uri)` and
  `mlflow models serve -m uri` score with NumPy: no pyspark import, no Java;
- `requirements.txt` / `python_env.yaml` / `conda.yaml`: what the pyfunc needs (MLflow, NumPy,
  pandas), not pyspark, so an environment MLflow builds from them to serve the model is small. The
  Spark flavor records `pyspark_version`; whoever loads it on a cluster has Spark already.

A table's model (`spec` given) also gets `dataset_spec.json` (`DatasetSpec.to_json`, so a later
reader can rebuild the spec) and a signature of the user's raw columns (`signature`).

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
from sweep.data.roles import base_type, is_integer, is_number
from sweep.data.spec import CLASSIFICATION, DatasetSpec

log = logging.getLogger(__name__)
ARTIFACT_PATH = "model"
TREES_FILE = "trees.npz"
SPEC_FILE = "dataset_spec.json"  # a table's DatasetSpec, beside trees.npz
LOADER_MODULE = "treescore"  # the name the `sweep/treescore/` package has in the model's code/
SERVE_REQUIREMENTS = [f"mlflow=={mlflow.__version__}", "numpy>=1.26", "pandas>=2.2,<3"]


def save_model(
    spark_model: Any,
    path: str,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: pd.DataFrame | None = None,
    spec: DatasetSpec | None = None,
    **kwargs: Any,
) -> None:
    """Save the Spark flavor, export its trees beside it (with a table's `spec`: its rules in the
    trees, the spec itself in `dataset_spec.json`), point the pyfunc flavor at them."""
    import mlflow.spark

    mlflow_model = mlflow_model or Model()
    mlflow.spark.save_model(
        spark_model,
        path,
        mlflow_model=mlflow_model,
        code_paths=[str(Path(treescore.__file__).parent)],  # the package: code/treescore/
        signature=signature,
        input_example=input_example,
        pip_requirements=SERVE_REQUIREMENTS,  # explicit: inferring them loads the model (~30 s)
        **kwargs,
    )
    started = time.perf_counter()
    trees = export.from_saved_pipeline(Path(path) / "sparkml", spec)
    treescore.save(trees, Path(path) / TREES_FILE)
    if spec is not None:
        (Path(path) / SPEC_FILE).write_text(spec.to_json())
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
    spec: DatasetSpec | None = None,
) -> str:
    """Log on run `run_id`; returns the model URI. `spec`: a table's DatasetSpec (its rules,
    labels and raw columns). Where MLflow has `Model._log_v2` (what `mlflow.spark.log_model`
    calls), the model is also one of MLflow 3's LoggedModels, which the UI's runs table shows
    with its registered version; elsewhere the same directory is uploaded as the run's artifacts
    through public API only (`log_as_artifacts`)."""
    if hasattr(Model, "_log_v2"):
        return log_as_logged_model(run_id, spark_model, signature, example, spec)
    return log_as_artifacts(run_id, spark_model, signature, example, client, spec)


def log_as_logged_model(
    run_id: str,
    spark_model: Any,
    signature: ModelSignature,
    example: pd.DataFrame,
    spec: DatasetSpec | None = None,
) -> str:
    """MLflow's own model logging with this module as the flavor (`save_model` below); `spec`
    reaches it through MLflow's keyword arguments. `_log_v2` needs the run active: the finished
    run reopens briefly (the only fluent call)."""
    import sweep.tracking.servable as flavor

    with mlflow.start_run(run_id=run_id):
        info = Model._log_v2(
            artifact_path=ARTIFACT_PATH,
            flavor=flavor,
            run_id=run_id,
            spark_model=spark_model,
            signature=signature,
            input_example=example,
            spec=spec,
        )
    return info.model_uri


def log_as_artifacts(
    run_id: str,
    spark_model: Any,
    signature: ModelSignature,
    example: pd.DataFrame,
    client: MlflowClient | None = None,
    spec: DatasetSpec | None = None,
) -> str:
    """Public API only: save the directory locally, upload it as the run's `model/` artifacts;
    returns `runs:/<run>/model`. `client`: the store (default: the current tracking URI)."""
    client = client or MlflowClient()
    with tempfile.TemporaryDirectory(prefix="sweep-model-") as tmp:
        local = os.path.join(tmp, ARTIFACT_PATH)
        save_model(
            spark_model,
            local,
            mlflow_model=Model(run_id=run_id, artifact_path=ARTIFACT_PATH),
            signature=signature,
            input_example=example,
            spec=spec,
        )
        client.log_artifacts(run_id, local, ARTIFACT_PATH)
    return f"runs:/{run_id}/{ARTIFACT_PATH}"


def _size(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def signature(columns: Any, spec: DatasetSpec | None = None) -> ModelSignature:
    """Covtype: 54 integer inputs (long: JSON requests carry int64) → one double `prediction`. A
    table's spec: its raw columns (`input_type`) → the labels' type, or double for regression.
    The `output` parameter ("prediction" or "probability") asks the JVM-free scorer for Spark's
    probability vector too (classification)."""
    params = ParamSchema([ParamSpec("output", "string", "prediction")])
    if spec is None or not spec.features:
        inputs = [ColSpec("long", c) for c in columns]
        return ModelSignature(Schema(inputs), Schema([ColSpec("double", "prediction")]), params)
    missing = {p.name for p in spec.profile if p.missing > 0}
    inputs = [ColSpec(input_type(t, name in missing), name) for name, t in spec.inputs]
    classification = spec.task == CLASSIFICATION
    output = ColSpec(label_type(spec.classes) if classification else "double", "prediction")
    return ModelSignature(Schema(inputs), Schema([output]), params if classification else None)


def input_type(spark_type: str, has_missing: bool = False) -> str:
    """The MLflow type of a raw column: long for integers (double where the table had missing
    values: pandas holds an integer column with nulls as floats, which a long column refuses),
    double for other numbers, boolean, and string for text, dates and timestamps (ISO text)."""
    if is_integer(spark_type):
        return "double" if has_missing else "long"
    if is_number(spark_type):
        return "double"
    return "boolean" if base_type(spark_type) == "boolean" else "string"


def label_type(classes: tuple[Any, ...] | None) -> str:
    """The MLflow type of the served labels: the classes' own (string for text)."""
    values = classes or (0.0,)
    for kind, name in ((bool, "boolean"), (int, "long"), (int | float, "double")):
        if all(isinstance(c, kind) for c in values):
            return name
    return "string"
