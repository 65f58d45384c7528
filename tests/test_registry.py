"""The winner in the Model Registry: tags, the @champion alias and its promotion rule."""

from dataclasses import replace

import mlflow
import pytest

from sweep.data.covtype import synthesize
from sweep.tracking.registry import Candidate, decide, register, settle
from sweep.tracking.runs import Tracker


@pytest.mark.parametrize(
    ("promote", "new", "champion", "promoted", "reason"),
    [
        ("if_better", 0.80, None, True, "no champion yet; test accuracy 0.8000"),
        ("if_better", 0.85, 0.80, True, "test accuracy 0.8500 >= champion's 0.8000"),
        ("if_better", 0.80, 0.80, True, "test accuracy 0.8000 >= champion's 0.8000"),
        ("if_better", 0.79, 0.80, False, "test accuracy 0.7900 < champion's 0.8000; champion kept"),
        ("always", 0.70, 0.80, True, "promote=always; test accuracy 0.7000 (champion had 0.8000)"),
    ],
)
def test_decide(promote, new, champion, promoted, reason):
    assert decide(promote, "accuracy", new, champion) == (promoted, reason)


@pytest.mark.core
def test_sweep_registers_its_winner_as_champion_with_tags(smoke_sweep):
    cfg, result, client = smoke_sweep
    reg = result.registration
    assert (reg.name, reg.alias, reg.promoted, reg.champion_version) == (
        "covtype-dtree",
        "champion",
        True,
        None,
    )
    version = client.get_model_version_by_alias("covtype-dtree", "champion")
    assert int(version.version) == reg.version
    tags = version.tags
    assert tags["parent_run_id"] == result.parent_run_id
    assert tags["child_run_id"] == result.best.run_id == version.run_id
    assert tags["metric"] == "accuracy"
    assert float(tags["validation_accuracy"]) == pytest.approx(result.best.metrics["accuracy"])
    assert float(tags["test_accuracy"]) == pytest.approx(result.test_metrics["accuracy"])
    assert len(tags["data_sha256"]) == 64 and tags["promotion"].startswith("promoted: ")
    parent = client.get_run(result.parent_run_id)
    assert parent.data.tags["sweep.registered_model"] == f"covtype-dtree/{reg.version}"


@pytest.mark.core
def test_champion_loads_as_spark_and_pyfunc_with_the_same_predictions(smoke_sweep, spark):
    cfg, result, client = smoke_sweep
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_registry_uri(client.tracking_uri)
    uri = "models:/covtype-dtree@champion"
    raw = synthesize(200, seed=11)
    features = raw.drop(columns="Cover_Type").astype("int64")
    spark_pred = (
        mlflow.spark.load_model(uri)
        .transform(spark.createDataFrame(features))
        .select("prediction")
        .toPandas()["prediction"]
        .tolist()
    )
    pyfunc = mlflow.pyfunc.load_model(uri)
    pyfunc_pred = list(pyfunc.predict(features))
    assert spark_pred == pyfunc_pred
    assert set(spark_pred) <= {float(c) for c in range(1, 8)}
    # A request that also carries the label (as the seed's example row does) still scores.
    assert list(pyfunc.predict(raw.astype("int64"))) == pyfunc_pred


def test_a_worse_version_leaves_the_champion_and_always_moves_it(smoke_sweep):
    cfg, result, client = smoke_sweep
    name = "promotion-rule"
    best = Candidate(
        result.model_uri,
        result.parent_run_id,
        result.best.run_id,
        "accuracy",
        result.best.metrics["accuracy"],
        dict(result.test_metrics),
        None,
    )
    worse = replace(best, test_metrics={**best.test_metrics, "accuracy": best.test_value - 0.01})
    settings = replace(cfg.registry, model_name=name)
    first = register(Tracker.open(client.tracking_uri), settings, best)
    second = register(Tracker.open(client.tracking_uri), settings, worse)
    assert (first.promoted, second.promoted) == (True, False)
    assert second.champion_version == first.version
    assert int(client.get_model_version_by_alias(name, "champion").version) == first.version
    assert "champion kept" in client.get_model_version(name, second.version).tags["promotion"]
    third = register(Tracker.open(client.tracking_uri), replace(settings, promote="always"), worse)
    assert third.promoted
    assert int(client.get_model_version_by_alias(name, "champion").version) == third.version


def test_two_sweeps_finishing_at_once_leave_the_alias_on_the_better_one(smoke_sweep):
    """Sweep A compared with champion v1 and registered v2 (0.9); sweep B compared with the same
    v1, registers v3 (0.8) and moves the alias last: B's settle hands it to v2, and says so."""
    cfg, result, client = smoke_sweep
    name = "race"
    settings = replace(cfg.registry, model_name=name)
    base = Candidate(
        result.model_uri, result.parent_run_id, result.best.run_id, "accuracy", 0.9, {}, None
    )
    register(
        Tracker.open(client.tracking_uri), settings, replace(base, test_metrics={"accuracy": 0.5})
    )  # v1, champion
    client.create_model_version(  # sweep A's version, promoted against v1, alias not moved yet
        name,
        result.model_uri,
        run_id=result.best.run_id,
        tags={"test_accuracy": "0.900000", "promotion": "promoted: test accuracy 0.9 >= 0.5"},
    )
    b = register(
        Tracker.open(client.tracking_uri), settings, replace(base, test_metrics={"accuracy": 0.8})
    )
    assert (b.version, b.champion_version, b.promoted) == (3, 1, False)
    assert "version 2" in b.reason
    assert int(client.get_model_version_by_alias(name, "champion").version) == 2
    assert client.get_model_version(name, "3").tags["promotion"].startswith("superseded: ")
    # A's own settle, running after B's alias move, agrees: v2 stays.
    client.set_registered_model_alias(name, "champion", 3)
    assert settle(client, name, "champion", "accuracy", since=1) == 2
    assert int(client.get_model_version_by_alias(name, "champion").version) == 2
