"""One trial as a scheduler asks for it: one child run, failures contained, its validation curves
(`sweep.curves`) scored and logged, the best kept in memory."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame

from sweep import curves, run_keys, tasks
from sweep.config import SweepConfig
from sweep.data.covtype import FEATURES_COL, LABEL_COL
from sweep.data.prepare import PreparedData
from sweep.errors import TooManyFailures, one_line
from sweep.interrupts import StopRequest
from sweep.models import family
from sweep.records import TrialRecord
from sweep.search.space import SearchSpace, to_spark_params
from sweep.story import trial_name
from sweep.tracking.retry import TrackingUnavailable
from sweep.tracking.runs import Tracker
from sweep.trial import TrialResult, run_trial
from sweep.trial_timeout import time_limit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fidelity:
    """What sweep.halving hands the objective for one fit: a rung's sample of the training split."""

    rung: int
    fraction: float
    config: int
    train: DataFrame


def stalled(losses: list[float], rounds: int) -> bool:
    """Pure: True when none of the last `rounds` losses improved on the best before them."""
    if len(losses) <= rounds:
        return False
    return min(losses[-rounds:]) >= min(losses[:-rounds])


def describe(
    space: SearchSpace, point: dict[str, Any], number: int, max_evals: int, fit_top: bool = False
) -> tuple[str, str, dict[str, Any], str]:
    """A sampled point → its family, its encoding, its Spark params and the child run's name;
    `fit_top` (sweep.curves.fit=top): the params its curves walk at the top of their range."""
    chosen, features, values = space.decode(point)
    entries, table = space.branches[chosen], family(chosen).PARAMS
    params = to_spark_params(values, entries, table)
    if fit_top:
        params = curves.fitted_params(params, entries, table, family(chosen).CURVES)
    order = [table[n].spark_name for n in entries if n in table]
    shown = chosen if space.nested else None
    encoding = features if space.searches_features else None
    name = trial_name(number, params, max_evals, order, family=shown, features=encoding)
    return chosen, features, params, name


def check_failures(failed: list[TrialRecord], limit: int | None) -> None:
    """Raise TooManyFailures once more than `sweep.max_failures` trials failed."""
    if limit is not None and len(failed) > limit:
        raise TooManyFailures(
            f"{len(failed)} trials failed, more than sweep.max_failures={limit}; the first "
            f"(trial {failed[0].number}): {failed[0].error}",
            where="sweep.max_failures",
            fix="See the error.txt artifact of the failed trials; narrow the search space or "
            "raise sweep.max_failures",
        )


def logged_params(record: TrialRecord) -> dict[str, Any]:
    """What a child's params hold: its family, its encoding and the exact Spark values."""
    return {run_keys.FAMILY: record.family, run_keys.FEATURES: record.features, **record.params}


def log_fidelity(tracker: Tracker, record: TrialRecord, fidelity: Fidelity) -> None:
    """A halving fit's rung and configuration, on its record and its child run."""
    record.rung, record.config = fidelity.rung, fidelity.config
    record.train_fraction = fidelity.fraction
    tracker.log(
        record.run_id,
        params={
            **logged_params(record),
            run_keys.RUNG: fidelity.rung,
            run_keys.TRAIN_FRACTION: fidelity.fraction,
        },
        tags={run_keys.CONFIG: fidelity.config},
    )


def importance_table(result: TrialResult) -> pd.DataFrame:
    return pd.DataFrame(
        sorted(result.importances.items(), key=lambda kv: -kv[1]),
        columns=["feature", "importance"],
    )


class Objective:
    """Called by a scheduler with a sampled point; returns the trial's record (status ok or fail).

    A trial that raises ends its child FAILED (error tag, traceback artifact); once more than
    `sweep.max_failures` trials failed, the sweep is aborted.
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
        self.space = SearchSpace.of(cfg)
        self.stop = stop
        self.spark = data.train.sparkSession.sparkContext
        self.on_trial = on_trial
        self.lock = threading.Lock()
        self.next_number = first_number
        self.records: list[TrialRecord] = []
        self.best: tuple[TrialRecord, TrialResult] | None = None
        self.validation: dict[str, curves.Validation] = {}  # per encoding, for the curves

    @property
    def failed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.status == "fail"]

    def __call__(self, point: dict[str, Any], fidelity: Fidelity | None = None) -> TrialRecord:
        """`fidelity` (sweep.halving): fit on that sample instead of the whole training split."""
        self.stop.raise_if_requested()
        with self.lock:  # sweep.parallelism > 1 calls this from several threads
            number, self.next_number = self.next_number, self.next_number + 1
        s = self.cfg.sweep
        fit_top = s.curves.enabled and s.curves.fit == "top"
        chosen, features, params, name = describe(self.space, point, number, s.max_evals, fit_top)
        if fidelity:
            name += f" c{fidelity.config} r{fidelity.rung}"
        record = None
        try:
            tags = {run_keys.FAMILY_TAG: chosen}
            with self.tracker.child(self.parent_id, number, name, tags) as run_id:
                record = TrialRecord(
                    number, run_id, "running", params, name=name, family=chosen, features=features
                )
                self.records.append(record)
                if fidelity:  # logged now: resuming a halving sweep needs an unfinished fit's rung
                    log_fidelity(self.tracker, record, fidelity)
                data = self.data.in_encoding(features)  # the split in the point's encoding
                train = fidelity.train if fidelity else data.train
                try:
                    with time_limit(self.spark, self.cfg.sweep.trial_timeout_s, f"trial-{number}"):
                        result = run_trial(
                            train,
                            data.validation,
                            params,
                            self.cfg.model,
                            family_name=chosen,
                            features=features,
                            spec=self.data.spec,
                        )
                except Exception:
                    self.stop.raise_if_requested()  # cancelled by a signal: KILLED, not FAILED
                    raise
                if s.curves.enabled:
                    record.curves = trial_curves(self, result, chosen, features, data.validation)
                record.model_uri = self._log_result(record, result)
        except Exception as exc:  # contained: the child is FAILED, the sweep goes on
            # No child run, or no server to log to: not the trial's fault, so not contained.
            if record is None or isinstance(exc, TrackingUnavailable):
                raise
            return self._failed(record, exc)
        record.status, record.metrics = "ok", result.metrics
        record.fit_seconds, record.eval_seconds = result.fit_seconds, result.eval_seconds
        metric = self.cfg.sweep.metric
        score = record.at_best(metric).metrics[metric]  # its curves' best point, if better
        with self.lock:
            best = self.best[0].at_best(metric).metrics[metric] if self.best else None
            if record.may_win and tasks.better(metric, score, best):
                self.best = (record, result)
        if self.on_trial:
            self.on_trial(record)
        return record

    def _failed(self, record: TrialRecord, exc: Exception) -> TrialRecord:
        record.status = "fail"
        record.error = one_line(exc)
        if record.rung is None:  # a halving fit logged its params before the fit
            self.tracker.log(record.run_id, params=logged_params(record))
        self.tracker.log_text(record.run_id, traceback.format_exc(), "error.txt")
        log.warning("Trial %d failed: %s", record.number, record.error)
        if self.on_trial:
            self.on_trial(record)
        check_failures(self.failed, self.cfg.sweep.max_failures)
        return record

    def _log_result(self, record: TrialRecord, result: TrialResult) -> str | None:
        """Everything a finished trial says, in one write: its params (the family and Spark's
        values), its metrics and what the family says about the model; then its importances."""
        run_id = record.run_id
        params = logged_params(record) if record.rung is None else {}  # halving: logged before
        self.tracker.log(run_id, params=params, metrics={
            **result.metrics,
            run_keys.FIT_SECONDS: result.fit_seconds,
            run_keys.EVAL_SECONDS: result.eval_seconds,
            **result.summary,
        })  # fmt: skip
        log_curves(self.tracker, record, self.cfg.sweep.metric)
        self.tracker.log_table(run_id, importance_table(result), "feature_importances.csv")
        if self.cfg.tracking.log_models == "all":
            return self.tracker.log_model(
                run_id, result.pipeline(), self.data.example, self.data.spec
            )
        return None


def trial_curves(
    objective: Objective, result: TrialResult, chosen: str, features: str, validation: DataFrame
) -> curves.Curves:
    """A fit's validation curves (sweep.curves), the split's arrays collected once per encoding; a
    problem drawing them is a warning, never the trial's failure."""
    table, walks = family(chosen).PARAMS, family(chosen).CURVES
    walked = curves.ranges(result.params, objective.space.branches[chosen], table, walks)
    if not walked:
        return {}
    try:
        with objective.lock:
            if features not in objective.validation:
                arrays = curves.validation_arrays(validation, FEATURES_COL, LABEL_COL)
                objective.validation[features] = arrays
        trees = curves.model_trees(result.fitted)
        task = objective.data.spec.task
        return curves.curves(trees, objective.validation[features], task, **walked)
    except Exception as exc:  # noqa: BLE001
        log.warning("No validation curves for this trial: %s", one_line(exc))
        return {}


def log_curves(tracker: Tracker, record: TrialRecord, metric: str) -> None:
    """Each curve as stepped metrics, `<metric>_by_depth` with step = depth (the UI draws them),
    and its best point (`best_depth`, `best_num_trees`)."""
    series, best = {}, {}
    for param, points in record.curves.items():
        for name in dict.fromkeys(m for p in points.values() for m in p):
            series[name + curves.SUFFIX[param]] = {v: p[name] for v, p in points.items()}
        if (at := curves.best_point(points, metric)) is not None:
            best[curves.BEST_AT[param]] = at
    if series:
        tracker.log_steps(record.run_id, series)
        tracker.log(record.run_id, metrics=best)
