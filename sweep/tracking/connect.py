"""Owns reaching MLflow: a retrying client pointed at a checked store, and the experiment a sweep
works in (found, created, or refused when deleted)."""

from __future__ import annotations

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from sweep.config import TrackingSettings
from sweep.errors import ConfigError, EnvironmentProblem
from sweep.tracking import store
from sweep.tracking.retry import RetryingClient, RetryPolicy
from sweep.tracking.uri import redact

# What MLflow's UI reads as the kind of experiment (its "Machine learning" / "GenAI" switch).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


def client_for(uri: str, retry_timeout_s: float) -> tuple[MlflowClient, RetryPolicy]:
    """Check the store, point MLflow at it, and a client whose calls retry while it is away."""
    if not retry_timeout_s >= 0:
        raise ConfigError(
            f"{retry_timeout_s!r} is not valid",
            where="tracking.retry_timeout_s",
            fix="Use a number of seconds >= 0 (0: no retries)",
        )
    store.prepare(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    policy = RetryPolicy(redact(uri), retry_timeout_s)
    return RetryingClient(MlflowClient(uri, registry_uri=uri), policy), policy


def experiment_of(client: MlflowClient, run_id: str, uri: str) -> str:
    """The experiment of an existing run (the one `mlflow run` made for us)."""
    try:
        return client.get_run(run_id).info.experiment_id
    except MlflowException as exc:
        raise EnvironmentProblem(
            f"the tracking store failed: {exc.message}",
            where=f"tracking.uri={redact(uri)}",
            fix="Check the URI and that the store is reachable",
        ) from exc


def experiment_id(client: MlflowClient, cfg: TrackingSettings) -> str:
    """The id of `tracking.experiment`, created (with its artifact folder) when new."""
    try:
        experiment = client.get_experiment_by_name(cfg.experiment)
        if experiment is None:
            return client.create_experiment(
                cfg.experiment,
                artifact_location=store.artifact_location(cfg.uri, cfg.experiment),
                tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND},
            )
        if experiment.lifecycle_stage != "active":
            raise EnvironmentProblem(
                f"experiment {cfg.experiment!r} is deleted",
                where="tracking.experiment",
                fix="Restore it (mlflow experiments restore) or choose another name",
            )
        if EXPERIMENT_KIND_TAG not in experiment.tags:
            client.set_experiment_tag(
                experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
            )
        return experiment.experiment_id
    except MlflowException as exc:
        raise EnvironmentProblem(
            f"the tracking store failed: {exc.message}",
            where=f"tracking.uri={redact(cfg.uri)}",
            fix="Check the URI and that the store is reachable",
        ) from exc
