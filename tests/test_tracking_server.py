"""`tracking=server`: a sweep against a real `mlflow server` on loopback, with a SQLite and with a
PostgreSQL backend store and proxied artifacts, then the champion served from that server."""

from __future__ import annotations

import json
import urllib.request
from contextlib import ExitStack

import mlflow
import pytest
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient

from sweep import config
from sweep.config_checks import load_config
from sweep.data.covtype import FEATURES, synthesize
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests.conftest import CONF_DIR, SMOKE
from tests.services import mlflow_server, models_serve, postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """An `mlflow server` (its URL and folder) with the given backend store, for the module."""
    folder = tmp_path_factory.mktemp(f"mlflow-server-{request.param}")
    with ExitStack() as stack:
        backend = stack.enter_context(postgres()) if request.param == "postgresql" else None
        yield stack.enter_context(mlflow_server(folder, backend)), folder


def server_config(url: str, *overrides: str) -> config.SweepConfig:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[*SMOKE, "tracking=server", f"tracking.uri={url}", "sweep.progress_bar=false",
                       *overrides],
        )  # fmt: skip
    return load_config(cfg)


@pytest.fixture(scope="module")
def server_sweep(server, spark):
    """One registered 3-trial sweep on the server (the module's tests only read it)."""
    url, folder = server
    cfg = server_config(url, "sweep.max_evals=3")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    return url, folder, result


def test_runs_artifacts_and_alias_live_on_the_server(server_sweep):
    url, folder, result = server_sweep
    client = MlflowClient(url, registry_uri=url)
    parent = client.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.info.artifact_uri.startswith("mlflow-artifacts:/")  # proxied by the server
    children = client.search_runs(
        [result.experiment_id], f"tags.mlflow.parentRunId = '{result.parent_run_id}'"
    )
    assert len(children) == 3 and {c.info.status for c in children} == {"FINISHED"}
    names = {a.path for a in client.list_artifacts(result.parent_run_id)}
    assert {"config.yaml", "search_space.yaml", "trials.csv"} <= names
    # The bytes are in the server's artifacts destination, not in the client's directory.
    assert list((folder / "artifacts").rglob("trials.csv"))
    version = client.get_model_version_by_alias("covtype-dtree", "champion")
    assert version.tags["parent_run_id"] == result.parent_run_id
    assert version.tags["child_run_id"] == result.best.run_id


# Serving reads the alias and the artifacts through the server's REST API, whatever its database:
# once (with SQLite) is enough, and saves CI a minute.
@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_champion_is_served_from_the_server(server_sweep, tmp_path):
    url, _, _ = server_sweep
    rows = synthesize(5, seed=3)[FEATURES].astype("int64")
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    expected = list(mlflow.pyfunc.load_model("models:/covtype-dtree@champion").predict(rows))
    with models_serve("models:/covtype-dtree@champion", url, tmp_path) as serving:
        body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
        request = urllib.request.Request(
            f"{serving}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.loads(response.read())["predictions"] == expected
