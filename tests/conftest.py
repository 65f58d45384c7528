"""Shared fixtures: one SparkSession for the suite, a fresh MLflow store per test, composed configs.

Two tiers: `tests/unit/` is pure (no JVM, no MLflow store: tests/unit/conftest.py checks it after
every test) and runs in seconds; everything else is the integration tier, where each test gets its
own real MLflow store (`tracking_uri`, applied to the whole tier by `pytest_collection_modifyitems`;
a unit test never gets one). The store is a copy of a SQLite database migrated once per session
(creating one costs ~5 s), so every test still gets its own real store.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from sweep import config
from sweep.config import SweepConfig
from sweep.config_checks import load_config

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "tests" / "unit"
CONF_DIR = str(ROOT / "sweep" / "conf")
# The real Covtype files live beside the checkout, never in it; SWEEP_COVTYPE_DIR points elsewhere.
COVTYPE_DIR = Path(os.environ.get("SWEEP_COVTYPE_DIR", ROOT.parent / "shared" / "data" / "covtype"))
SAMPLE_100K = COVTYPE_DIR / "covtype-sample100k.data.gz"
FULL = COVTYPE_DIR / "covtype-full.data.gz"

SMOKE = ("+experiment=smoke", "data.rows=3000")
QUICK = (*SMOKE, "tracking.log_models=none", "registry.enabled=false")  # no model, no registry

config.register()


def requires(path: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not path.is_file(), reason=f"real Covtype data not found at {path}")


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("sweep-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def pytest_collection_modifyitems(config, items):
    """The integration tier (all but tests/unit/) opts into a real store per test as a whole."""
    for item in items:
        if not item.path.is_relative_to(UNIT):
            item.add_marker(pytest.mark.usefixtures("tracking_uri"))


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory) -> Path:
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(f"sqlite:///{db}").search_experiments()  # creates and migrates the schema
    return db


def _store_uri(tmp_path: Path) -> str:
    """The test's store: `tracking_uri` creates it, `compose_cfg` only names it."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def tracking_uri(tmp_path, _template_store, monkeypatch) -> str:
    """Each test gets its own real SQLite store; none may leave a run RUNNING."""
    import mlflow
    from mlflow.tracking import MlflowClient

    shutil.copy(_template_store, tmp_path / "mlflow.db")
    uri = _store_uri(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    # mlflow.set_registry_uri() writes os.environ, which subprocesses (the CLI, mlflow run, the
    # scoring server) inherit: start clean and let monkeypatch restore it after the test.
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    # MlflowClient(uri) takes its registry from mlflow's process-wide registry URI, which an
    # earlier test's Tracker.connect may have pointed at its own store.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield uri
    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    running = (
        client.search_runs(experiments, "attributes.status = 'RUNNING'") if experiments else []
    )
    assert not running, f"runs left RUNNING: {[r.info.run_id for r in running]}"


@pytest.fixture
def compose_cfg(tmp_path) -> Callable[..., SweepConfig]:
    """compose_cfg("+experiment=smoke", "sweep.max_evals=2") → a validated SweepConfig whose
    tracking.uri is the test's store (opened only by `tracking_uri`: composing opens nothing)."""
    tracking_uri = _store_uri(tmp_path)

    def _compose(*overrides: str) -> SweepConfig:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = compose(
                config_name="config",
                overrides=[
                    f"tracking.uri={tracking_uri}",
                    f"data.cache_dir={tmp_path / 'cache'}",
                    "sweep.progress_bar=false",
                    *overrides,
                ],
            )
        return load_config(cfg)

    return _compose


@pytest.fixture
def session(spark):
    """The suite's SparkSession, handed to select() in place of building (and stopping) one."""
    return lambda settings: nullcontext(spark)


@pytest.fixture(scope="session")
def smoke_sweep(spark, tmp_path_factory, _template_store):
    """One registered 4-trial smoke sweep in its own store, shared by the tests that only read it
    (a sweep takes ~20 s). Returns (config, SweepResult, MlflowClient)."""
    from mlflow.tracking import MlflowClient

    from sweep.runner import run_sweep
    from sweep.tracking.runs import Tracker

    db = tmp_path_factory.mktemp("smoke-sweep") / "mlflow.db"
    shutil.copy(_template_store, db)
    uri = f"sqlite:///{db}"
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = load_config(
            compose(
                config_name="config",
                overrides=[*SMOKE, f"tracking.uri={uri}", "sweep.progress_bar=false"],
            )
        )
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    return cfg, result, MlflowClient(uri, registry_uri=uri)
