"""Owns the runs a sweep makes: created and ended through `MlflowClient` with explicit run ids,
not through the fluent active-run stack, so a child is parented by its tag, ends with the right
status whatever happens, and no "run already active" state leaks between trials or tests.

Every call goes through `sweep.tracking.retry`: a tracking server that stops answering is retried
with backoff for `tracking.retry_timeout_s`, then the sweep ends with an error that says how to
resume; a 401/403 becomes one error naming the credential variables.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from sweep import run_keys
from sweep.config import TrackingSettings
from sweep.errors import one_line
from sweep.lineage import DataInput
from sweep.tracking import connect
from sweep.tracking.artifacts import ArtifactWriter
from sweep.tracking.retry import RetryPolicy, TrackingUnavailable
from sweep.tracking.values import ValueWriter

log = logging.getLogger(__name__)


@dataclass
class Tracker(ValueWriter, ArtifactWriter):
    """The sweep's handle on one store and experiment: runs that always end, and what they log."""

    client: MlflowClient  # a RetryingClient: MlflowClient's methods, retried while unreachable
    experiment_id: str  # where new runs go; set by connect, or by the caller (a resumed sweep's)
    uri: str
    parent_run_id: str | None = None  # a run made for us (by `mlflow run`) to be the parent
    retry: RetryPolicy | None = None
    # What every run this tracker creates carries: source tags, and the data as dataset inputs.
    run_tags: dict[str, str] = field(default_factory=dict)
    inputs: list[DataInput] = field(default_factory=list)
    reopened: set[str] = field(default_factory=set)  # runs that may hold params already

    @classmethod
    def connect(cls, cfg: TrackingSettings, parent_run_id: str | None = None) -> Tracker:
        """Check the store, then find or create the experiment. With `parent_run_id` (what
        `mlflow run` passes as MLFLOW_RUN_ID) that run becomes the sweep's parent, in its own
        experiment, instead of a second top-level run."""
        tracker = cls.open(cfg.uri, cfg.retry_timeout_s)
        if parent_run_id:
            tracker.parent_run_id = parent_run_id
            tracker.experiment_id = connect.experiment_of(tracker.client, parent_run_id, cfg.uri)
        else:
            tracker.experiment_id = connect.experiment_id(tracker.client, cfg)
        return tracker

    @classmethod
    def open(cls, uri: str, retry_timeout_s: float = 60.0) -> Tracker:
        """Check the store and point MLflow at it, without choosing an experiment yet."""
        client, policy = connect.client_for(uri, retry_timeout_s)
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
            self.reopened.add(run_id)
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

    def child(
        self, parent_id: str, trial: int, name: str | None = None, tags: Mapping[str, str] = ()
    ) -> Any:
        """A trial's run under `parent_id`, created with its tags in the same call."""
        return self.run(
            name or f"trial-{trial:03d}",
            {
                MLFLOW_PARENT_RUN_ID: parent_id,
                run_keys.ROLE: "trial",
                run_keys.TRIAL: str(trial),
                **dict(tags),
            },
        )

    def end(self, run_id: str, status: str, reason: str) -> None:
        """End a run another process left open (a crash), saying why."""
        self.client.set_tag(run_id, run_keys.ERROR, reason)
        self.client.set_terminated(run_id, status)
