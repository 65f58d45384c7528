"""hyperopt's objective: one child run per trial, failures contained, the best kept in memory."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from hyperopt import STATUS_FAIL, STATUS_OK

from sweep.config import SweepConfig
from sweep.data import PreparedData
from sweep.errors import TooManyFailures, one_line
from sweep.interrupts import StopRequest
from sweep.models import family
from sweep.retry import TrackingUnavailable
from sweep.space import to_spark_params
from sweep.story import trial_name
from sweep.tracking import Tracker
from sweep.trial import TrialResult, run_trial
from sweep.trial_timeout import time_limit

log = logging.getLogger(__name__)


@dataclass
class TrialRecord:
    number: int
    run_id: str
    status: str  # "running", then "ok" or "fail" ("running" stays if the sweep is killed)
    params: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0
    eval_seconds: float = 0.0
    error: str | None = None
    model_uri: str | None = None
    name: str = ""  # the child run's name (see sweep.story.trial_name)


def stalled(losses: list[float], rounds: int) -> bool:
    """Pure: True when none of the last `rounds` losses improved on the best before them."""
    if len(losses) <= rounds:
        return False
    return min(losses[-rounds:]) >= min(losses[:-rounds])


class Objective:
    """Called by fmin with a sampled point; returns hyperopt's result dict.

    A trial that raises ends its child FAILED (error tag, traceback artifact) and reports
    STATUS_FAIL; once more than `sweep.max_failures` trials failed, the sweep is aborted.
    """

    def __init__(
        self,
        cfg: SweepConfig,
        data: PreparedData,
        tracker: Tracker,
        parent_id: str,
        stop: StopRequest,
        first_number: int = 0,
        on_trial: Callable[[TrialRecord], None] | None = None,
    ):
        """`on_trial` is told of each trial once it finished or failed (sweep.progress)."""
        self.cfg, self.data, self.tracker, self.parent_id = cfg, data, tracker, parent_id
        self.stop = stop
        self.spark = data.train.sparkSession.sparkContext
        self.on_trial = on_trial
        self.lock = threading.Lock()
        self.next_number = first_number
        self.records: list[TrialRecord] = []
        self.best: tuple[TrialRecord, TrialResult] | None = None

    @property
    def failed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.status == "fail"]

    def __call__(self, point: dict[str, Any]) -> dict[str, Any]:
        self.stop.raise_if_requested()
        with self.lock:  # sweep.parallelism > 1 calls this from several threads
            number, self.next_number = self.next_number, self.next_number + 1
        table = family(self.cfg.model.family).PARAMS
        params = to_spark_params(point, self.cfg.search, table)
        order = [table[n].spark_name for n in self.cfg.search]
        name = trial_name(number, params, self.cfg.sweep.max_evals, order)
        record = None
        try:
            with self.tracker.child(self.parent_id, number, name) as run_id:
                record = TrialRecord(number, run_id, "running", params, name=name)
                self.records.append(record)
                self.tracker.log(run_id, params=params)
                try:
                    with time_limit(self.spark, self.cfg.sweep.trial_timeout_s, f"trial-{number}"):
                        result = run_trial(
                            self.data.train,
                            self.data.validation,
                            params,
                            self.cfg.model,
                            self.data.features,
                        )
                except Exception:
                    self.stop.raise_if_requested()  # cancelled by a signal: KILLED, not FAILED
                    raise
                record.model_uri = self._log_result(run_id, result)
        except Exception as exc:  # contained: the child is FAILED, the sweep goes on
            # No child run, or no server to log to: not the trial's fault, so not contained.
            if record is None or isinstance(exc, TrackingUnavailable):
                raise
            return self._failed(record, exc)
        record.status, record.metrics = "ok", result.metrics
        record.fit_seconds, record.eval_seconds = result.fit_seconds, result.eval_seconds
        score = result.metrics[self.cfg.sweep.metric]
        with self.lock:
            if self.best is None or score > self.best[0].metrics[self.cfg.sweep.metric]:
                self.best = (record, result)
        if self.on_trial:
            self.on_trial(record)
        return {"status": STATUS_OK, "loss": -score, "run_id": run_id}

    def _failed(self, record: TrialRecord, exc: Exception) -> dict[str, Any]:
        record.status = "fail"
        record.error = one_line(exc)
        self.tracker.log_text(record.run_id, traceback.format_exc(), "error.txt")
        log.warning("Trial %d failed: %s", record.number, record.error)
        if self.on_trial:
            self.on_trial(record)
        limit = self.cfg.sweep.max_failures
        failed = self.failed
        if limit is not None and len(failed) > limit:
            raise TooManyFailures(
                f"{len(failed)} trials failed, more than sweep.max_failures={limit}; the first "
                f"(trial {failed[0].number}): {failed[0].error}",
                where="sweep.max_failures",
                fix="See the error.txt artifact of the failed trials; narrow the search space or "
                "raise sweep.max_failures",
            )
        return {"status": STATUS_FAIL, "error": record.error}

    def _log_result(self, run_id: str, result: TrialResult) -> str | None:
        self.tracker.log(run_id, metrics={
            **result.metrics,
            "fit_seconds": result.fit_seconds,
            "eval_seconds": result.eval_seconds,
            **result.summary,
        })  # fmt: skip
        importances = pd.DataFrame(
            sorted(result.importances.items(), key=lambda kv: -kv[1]),
            columns=["feature", "importance"],
        )
        self.tracker.log_table(run_id, importances, "feature_importances.csv")
        if self.cfg.tracking.log_models == "all":
            return self.tracker.log_model(run_id, result.pipeline(), self.data.example)
        return None
