"""Two `python -m sweep` processes started at the same instant on a new SQLite store.

Before the store was created under a lock, one of the two died in MLflow's schema migration
(`duplicate column name: step`), or both did and left the file half-migrated.
"""

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import SMOKE
from tests.helpers import start_cli

pytestmark = pytest.mark.slow


def test_two_sweeps_on_a_new_store_both_finish_and_the_better_one_is_champion(tmp_path):
    store = tmp_path / "fresh"
    store.mkdir()
    uri = f"sqlite:///{store}/mlflow.db"
    procs = [
        start_cli(
            *SMOKE,
            "sweep.max_evals=3",
            f"sweep.seed={seed}",
            "sweep.progress_bar=false",
            f"tracking.uri={uri}",
            f"hydra.run.dir={tmp_path}/{seed}",
            cwd=tmp_path,
            env={"MLFLOW_TRACKING_URI": uri},
        )
        for seed in (1, 2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr[-3000:]
        assert "Traceback" not in stderr

    client = MlflowClient(uri, registry_uri=uri)
    [experiment] = [e for e in client.search_experiments() if e.name == "covtype-dtree"]
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("sweep.role") == "parent"]
    assert len(parents) == 2 and {p.info.status for p in parents} == {"FINISHED"}
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(children) == 3 and {c.info.status for c in children} == {"FINISHED"}

    versions = client.search_model_versions("name = 'covtype-dtree'")
    assert len(versions) == 2
    value = {int(v.version): float(v.tags["test_accuracy"]) for v in versions}
    best = max(value, key=lambda v: (value[v], v))  # a tie goes to the newer, as >= would
    champion = client.get_model_version_by_alias("covtype-dtree", "champion")
    assert int(champion.version) == best, (value, champion.tags["promotion"])
