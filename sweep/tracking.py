"""The only module that talks to MLflow runs.

Runs are created and ended through `MlflowClient` with explicit run ids, not through the fluent
active-run stack: a child is parented by its tag, ends with the right status whatever happens,
and no "run already active" state leaks between trials or tests. Only `log_model` needs the
fluent API; it reopens the finished child briefly.

Every call goes through `sweep.retry`: a tracking server that stops answering is retried with
backoff for `tracking.retry_timeout_s`, then the sweep ends with an error that says how to
resume; a 401/403 becomes one error naming the credential variables.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    Run,
    RunStatus,
    RunTag,
)
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from sweep import run_keys, store
from sweep.config import TrackingSettings
from sweep.errors import ConfigError, EnvironmentProblem, one_line
from sweep.lineage import CONTEXT_TAG, DataInput
from sweep.retry import RetryingClient, RetryPolicy, TrackingUnavailable, redact

log = logging.getLogger(__name__)
# What MLflow's UI reads as the kind of experiment (its "Machine learning" / "GenAI" switch).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


@dataclass
class Tracker:
    client: MlflowClient  # a RetryingClient: MlflowClient's methods, retried while unreachable
    experiment_id: str
    uri: str
    parent_run_id: str | None = None  # a run made for us (by `mlflow run`) to be the parent
    retry: RetryPolicy | None = None
    # What every run this tracker creates carries: source tags, and the data as dataset inputs.
    run_tags: dict[str, str] = field(default_factory=dict)
    inputs: list[DataInput] = field(default_factory=list)

    @classmethod
    def connect(cls, cfg: TrackingSettings, parent_run_id: str | None = None) -> Tracker:
        """Check the store, then find or create the experiment. With `parent_run_id` (what
        `mlflow run` passes as MLFLOW_RUN_ID) that run becomes the sweep's parent, in its own
        experiment, instead of a second top-level run."""
        tracker = cls.open(cfg.uri, cfg.retry_timeout_s)
        client = tracker.client
        try:
            if parent_run_id:
                run = client.get_run(parent_run_id)
                tracker.experiment_id, tracker.parent_run_id = run.info.experiment_id, parent_run_id
                return tracker
            experiment = client.get_experiment_by_name(cfg.experiment)
            if experiment is None:
                experiment_id = client.create_experiment(
                    cfg.experiment,
                    artifact_location=store.artifact_location(cfg.uri, cfg.experiment),
                    tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND},
                )
            elif experiment.lifecycle_stage != "active":
                raise EnvironmentProblem(
                    f"experiment {cfg.experiment!r} is deleted",
                    where="tracking.experiment",
                    fix="Restore it (mlflow experiments restore) or choose another name",
                )
            else:
                experiment_id = experiment.experiment_id
                if EXPERIMENT_KIND_TAG not in experiment.tags:
                    client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        except MlflowException as exc:
            raise EnvironmentProblem(
                f"the tracking store failed: {exc.message}",
                where=f"tracking.uri={redact(cfg.uri)}",
                fix="Check the URI and that the store is reachable",
            ) from exc
        tracker.experiment_id = experiment_id
        return tracker

    @classmethod
    def open(cls, uri: str, retry_timeout_s: float = 60.0) -> Tracker:
        """Check the store and point MLflow at it, without choosing an experiment yet."""
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
        client = RetryingClient(MlflowClient(uri, registry_uri=uri), policy)
        return cls(client, "", uri, retry=policy)

    @property
    def reachable(self) -> bool:
        """False once the server stayed away past the retry budget: no point ending runs."""
        return self.retry is None or not self.retry.gone

    @contextmanager
    def run(self, name: str, tags: Mapping[str, str], run_id: str | None = None) -> Iterator[str]:
        """A run (new, or the existing `run_id`) that always ends: FINISHED, FAILED on an error,
        KILLED on Ctrl-C."""
        tags = {MLFLOW_RUN_NAME: name, **tags}
        if run_id is None:
            run_id = self.client.create_run(
                self.experiment_id, run_name=name, tags={**self.run_tags, **tags}
            ).info.run_id
        else:  # resumed (it may have ended KILLED) or made by `mlflow run`: running again
            # (its source tags stay: `mlflow run` wrote its own)
            self.log(run_id, tags=tags)
            self.client.update_run(run_id, status=RunStatus.to_string(RunStatus.RUNNING))
        status = RunStatus.to_string(RunStatus.FAILED)
        try:
            if self.inputs:  # the store skips inputs a resumed run already has
                self.log_inputs(run_id, self.inputs)
            yield run_id
            status = RunStatus.to_string(RunStatus.FINISHED)
        except (KeyboardInterrupt, SystemExit):
            status = RunStatus.to_string(RunStatus.KILLED)
            raise
        except Exception as exc:
            self._while_failing(self.client.set_tag, run_id, run_keys.ERROR, one_line(exc))
            raise
        finally:
            # An unreachable server keeps the run RUNNING; resuming the sweep closes it.
            if status == RunStatus.to_string(RunStatus.FINISHED):
                if self.reachable:
                    self.client.set_terminated(run_id, status)
            else:
                self._while_failing(self.client.set_terminated, run_id, status)

    def log_while_failing(self, run_id: str, **what: Any) -> None:
        """`log` from an error or signal handler: it must not replace the error being handled."""
        self._while_failing(self.log, run_id, **what)

    def _while_failing(self, write: Any, run_id: str, *args: Any, **kwargs: Any) -> None:
        """A write made while an error or a signal is on its way out. A tracking error here (the
        server went away) is a warning, never the error the user sees: an Interrupted must still
        exit 130, not 2."""
        if not self.reachable:
            return
        try:
            write(run_id, *args, **kwargs)
        except Exception as exc:
            log.warning("Could not record the end of run %s: %s", run_id, one_line(exc))

    @contextmanager
    def parent(self, name: str, resume: str | None = None) -> Iterator[str]:
        """The sweep's parent run: `resume` reopens one, `mlflow run`'s run is adopted, or new.
        If the server goes away for good, the error says how to resume this sweep."""
        run_id = resume or self.parent_run_id
        try:
            with self.run(name, {run_keys.ROLE: "parent"}, run_id=run_id) as run_id:
                yield run_id
        except TrackingUnavailable as exc:
            if run_id is None:
                raise
            raise exc.resumable(run_id) from exc.__cause__

    def child(self, parent_id: str, trial: int, name: str | None = None) -> Any:
        return self.run(
            name or f"trial-{trial:03d}",
            {MLFLOW_PARENT_RUN_ID: parent_id, run_keys.ROLE: "trial", run_keys.TRIAL: str(trial)},
        )

    def log(
        self,
        run_id: str,
        params: Mapping[str, Any] = (),
        metrics: Mapping[str, float] = (),
        tags: Mapping[str, Any] = (),
        step: int = 0,
    ) -> None:
        """Log in one batch, metrics at `step`. MLflow params cannot change; a resumed sweep's
        changed value (a larger max_evals, a new best) goes to the tag `updated.<param>` instead."""
        params, tags = {k: str(v) for k, v in dict(params).items()}, dict(tags)
        if params:
            existing = self.client.get_run(run_id).data.params
            for key in [k for k, v in params.items() if existing.get(k, v) != v]:
                tags[f"{run_keys.UPDATED}{key}"] = params.pop(key)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), _now_ms(), step) for k, v in dict(metrics).items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, str(v)) for k, v in tags.items()],
        )

    def log_inputs(self, run_id: str, inputs: list[DataInput]) -> None:
        """The data a run used, as MLflow dataset inputs (one call for all of them)."""
        self.client.log_inputs(
            run_id,
            datasets=[
                DatasetInput(
                    Dataset(d.name, d.digest, d.source_type, d.source, d.schema, d.profile),
                    tags=[InputTag(CONTEXT_TAG, d.context)],
                )
                for d in inputs
            ],
        )

    def find_parent(self, ref: str, where: str = "sweep.resume") -> Run:
        """A sweep parent by run id, or "last": the newest sweep parent in the experiment.
        Adopts the parent's experiment. `where` names the input in errors."""
        if ref == "last":
            runs = self.client.search_runs(
                [self.experiment_id],
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
            run = self.client.get_run(ref)
        except MlflowException as exc:
            raise ConfigError(
                f"no run {ref!r} in {redact(self.uri)}",
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
        self.experiment_id = run.info.experiment_id
        return run

    def children(self, parent_id: str) -> list[Run]:
        return self.client.search_runs(
            [self.experiment_id],
            f"tags.mlflow.parentRunId = '{parent_id}'",
            order_by=["attributes.start_time ASC"],
            max_results=50_000,
        )

    def end(self, run_id: str, status: str, reason: str) -> None:
        """End a run another process left open (a crash), saying why."""
        self.client.set_tag(run_id, run_keys.ERROR, reason)
        self.client.set_terminated(run_id, status)

    def log_text(self, run_id: str, text: str, path: str) -> None:
        self.client.log_text(run_id, text, path)

    def log_figure(self, run_id: str, figure: Any, path: str) -> None:
        """Log a matplotlib figure as a PNG artifact, then close it."""
        import matplotlib.pyplot as plt

        try:
            self.client.log_figure(run_id, figure, path)
        finally:
            plt.close(figure)

    def log_table(self, run_id: str, frame: pd.DataFrame, path: str) -> None:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        self.client.log_text(run_id, buffer.getvalue(), path)

    def log_model(self, run_id: str, model: Any, example: pd.DataFrame) -> str:
        """Log a Spark model on a (finished) run, with its JVM-free scorer (`sweep.servable`);
        returns the model URI to load it from."""
        if self.retry is None:
            return self._log_model(run_id, model, example)
        return self.retry.call(self._log_model, run_id, model, example)

    def _log_model(self, run_id: str, model: Any, example: pd.DataFrame) -> str:
        from sweep import servable

        with mlflow.start_run(run_id=run_id):
            return servable.log_model(run_id, model, servable.signature(example.columns), example)


def _now_ms() -> int:
    return int(time.time() * 1000)
