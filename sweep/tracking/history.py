"""Owns reading past sweeps back from MLflow: a sweep's parent (by id or the newest), its
children. The caller says which experiment it works in; nothing here changes the tracker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from sweep import run_keys
from sweep.errors import ConfigError
from sweep.tracking.uri import redact

if TYPE_CHECKING:
    from sweep.tracking.runs import Tracker


def find_parent(tracker: Tracker, ref: str, experiment_id: str, where: str) -> Run:
    """A sweep parent by run id (in any experiment of the store), or "last": the newest sweep
    parent in `experiment_id`. `where` names the input in errors."""
    if ref == "last":
        runs = tracker.client.search_runs(
            [experiment_id],
            f"tags.`{run_keys.ROLE}` = 'parent'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not runs:
            raise ConfigError(
                "there is no sweep in this experiment",
                where=where,
                fix="Run a sweep first, or pass a parent run id",
            )
        return runs[0]
    try:
        run = tracker.client.get_run(ref)
    except MlflowException as exc:
        raise ConfigError(
            f"no run {ref!r} in {redact(tracker.uri)}",
            where=where,
            fix="Copy the parent run id from the sweep's summary or the MLflow UI",
        ) from exc
    role = run.data.tags.get(run_keys.ROLE)
    if role != "parent":
        what = (
            f"a trial of sweep {run.data.tags.get(MLFLOW_PARENT_RUN_ID)}"
            if role
            else "not made by sweep"
        )
        raise ConfigError(
            f"run {ref} is not a sweep parent ({what})",
            where=where,
            fix="Pass the id of the sweep's parent run",
        )
    return run


def children(tracker: Tracker, parent: Run, finished_only: bool = False) -> list[Run]:
    """The parent's trial runs, oldest first (FINISHED ones only if asked)."""
    query = f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    if finished_only:
        query += " and attributes.status = 'FINISHED'"
    return tracker.client.search_runs(
        [parent.info.experiment_id],
        query,
        order_by=["attributes.start_time ASC"],
        max_results=50_000,
    )


def metric_steps(tracker: Tracker, run_id: str, key: str) -> set[int]:
    """The steps at which a run logged the metric `key`."""
    return {m.step for m in tracker.client.get_metric_history(run_id, key)}
