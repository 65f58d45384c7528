"""The sweep: prepared data ∘ parent run ∘ hyperopt fmin over child runs ∘ the winner's test
metrics.

`run_sweep` takes a live SparkSession and a connected Tracker, so tests can give it the suite's
session and a temporary store; `sweep.__main__` builds both from config.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, tpe
from omegaconf import OmegaConf
from pyspark.sql import SparkSession

from sweep.config import SweepConfig
from sweep.data import PreparedData, prepared
from sweep.errors import AllTrialsFailed
from sweep.registry import Candidate, Registration, register
from sweep.space import build_space, to_spark_params
from sweep.tracking import Tracker
from sweep.trial import TrialResult, confusion_matrix, metrics_from_confusion, run_trial

log = logging.getLogger(__name__)


@dataclass
class TrialRecord:
    number: int
    run_id: str
    status: str  # "ok" or "fail"
    params: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0
    eval_seconds: float = 0.0
    error: str | None = None
    model_uri: str | None = None


@dataclass
class SweepResult:
    parent_run_id: str
    experiment_id: str
    tracking_uri: str
    metric: str
    trials: list[TrialRecord]
    best: TrialRecord
    test_metrics: dict[str, float]
    model_uri: str | None
    data_counts: dict[str, int]
    wall_seconds: float
    prepare_seconds: float
    registration: Registration | None = None

    @property
    def finished(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == "ok"]


class Objective:
    """hyperopt's objective: one child run per call; a failing trial fails only its child."""

    def __init__(self, cfg: SweepConfig, data: PreparedData, tracker: Tracker, parent_id: str):
        self.cfg, self.data, self.tracker, self.parent_id = cfg, data, tracker, parent_id
        self.records: list[TrialRecord] = []
        self.best: tuple[TrialRecord, TrialResult] | None = None

    def __call__(self, point: dict[str, Any]) -> dict[str, Any]:
        number = len(self.records)
        params = to_spark_params(point, self.cfg.search)
        record = None
        try:
            with self.tracker.child(self.parent_id, number) as run_id:
                record = TrialRecord(number, run_id, "fail", params)
                self.records.append(record)
                self.tracker.log(run_id, params=params)
                result = run_trial(self.data.train, self.data.validation, params, self.cfg.model)
                record.model_uri = self._log_result(run_id, result)
        except Exception as exc:  # contained: the child is FAILED, the sweep goes on
            if record is None:  # the child run could not even be created: not the trial's fault
                raise
            record.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"[:500]
            self.tracker.log_text(record.run_id, traceback.format_exc(), "error.txt")
            log.warning("Trial %d failed: %s", number, record.error)
            return {"status": STATUS_FAIL, "error": record.error}
        record.status, record.metrics = "ok", result.metrics
        record.fit_seconds, record.eval_seconds = result.fit_seconds, result.eval_seconds
        score = result.metrics[self.cfg.sweep.metric]
        if self.best is None or score > self.best[0].metrics[self.cfg.sweep.metric]:
            self.best = (record, result)
        return {"status": STATUS_OK, "loss": -score, "run_id": run_id}

    def _log_result(self, run_id: str, result: TrialResult) -> str | None:
        self.tracker.log(
            run_id,
            metrics={
                **result.metrics,
                "fit_seconds": result.fit_seconds,
                "eval_seconds": result.eval_seconds,
                "num_nodes": result.num_nodes,
                "tree_depth": result.tree_depth,
            },
        )
        importances = pd.DataFrame(
            sorted(result.importances.items(), key=lambda kv: -kv[1]),
            columns=["feature", "importance"],
        )
        self.tracker.log_table(run_id, importances, "feature_importances.csv")
        if self.cfg.tracking.log_models == "all":
            return self.tracker.log_model(run_id, result.pipeline(), self.data.example)
        return None


def run_sweep(cfg: SweepConfig, spark: SparkSession, tracker: Tracker) -> SweepResult:
    started = time.perf_counter()
    with prepared(spark, cfg.data, progress=cfg.sweep.progress_bar) as data:
        prepare_seconds = time.perf_counter() - started
        with tracker.parent(cfg.sweep.run_name) as parent_id:
            _log_setup(cfg, data, tracker, parent_id)
            objective = _search(cfg, data, tracker, parent_id)
            best, result = objective.best
            test_metrics = metrics_from_confusion(confusion_matrix(result.tree, data.test))
            model_uri = _log_best_model(cfg, tracker, best, result, data)
            summary = SweepResult(
                parent_id,
                tracker.experiment_id,
                tracker.uri,
                cfg.sweep.metric,
                objective.records,
                best,
                test_metrics,
                model_uri,
                data.counts,
                time.perf_counter() - started,
                prepare_seconds,
            )
            _log_outcome(tracker, summary)
            if cfg.registry.enabled and model_uri:
                summary.registration = _register(cfg, tracker, summary, data.sha256)
    return summary


def _search(cfg: SweepConfig, data: PreparedData, tracker: Tracker, parent_id: str) -> Objective:
    """Run hyperopt's TPE over child runs; raises AllTrialsFailed when no trial finished."""
    objective = Objective(cfg, data, tracker, parent_id)
    fmin(
        objective,
        build_space(cfg.search),
        algo=partial(tpe.suggest, n_startup_jobs=cfg.sweep.n_startup_jobs),
        max_evals=cfg.sweep.max_evals,
        trials=Trials(),
        rstate=np.random.default_rng(cfg.sweep.seed),
        show_progressbar=cfg.sweep.progress_bar,
    )
    if objective.best is None:
        first = objective.records[0].error if objective.records else "no trial ran"
        raise AllTrialsFailed(
            f"all {len(objective.records)} trials failed; the first: {first}",
            where="sweep",
            fix="See the error.txt artifact of a failed trial",
        )
    return objective


def _register(
    cfg: SweepConfig, tracker: Tracker, s: SweepResult, sha256: str | None
) -> Registration:
    candidate = Candidate(
        model_uri=s.model_uri,
        parent_run_id=s.parent_run_id,
        child_run_id=s.best.run_id,
        metric=s.metric,
        validation_value=s.best.metrics[s.metric],
        test_metrics=s.test_metrics,
        data_sha256=sha256,
    )
    registration = register(tracker.client, cfg.registry, candidate)
    tracker.log(
        s.parent_run_id,
        tags={
            "sweep.registered_model": f"{registration.name}/{registration.version}",
            "sweep.promotion": registration.reason,
        },
    )
    return registration


def _log_best_model(
    cfg: SweepConfig, tracker: Tracker, best: TrialRecord, result: TrialResult, data: PreparedData
) -> str | None:
    if cfg.tracking.log_models != "best":  # "all": already on the child; "none": not wanted
        return best.model_uri
    return tracker.log_model(best.run_id, result.pipeline(), data.example)


def _log_setup(cfg: SweepConfig, data: PreparedData, tracker: Tracker, parent_id: str) -> None:
    config_yaml = OmegaConf.to_yaml(OmegaConf.structured(cfg))
    search = {
        name: {k: v for k, v in vars(spec).items() if v is not None}
        for name, spec in cfg.search.items()
    }
    tracker.log_text(parent_id, config_yaml, "config.yaml")
    tracker.log_text(parent_id, yaml.safe_dump(search, sort_keys=False), "search_space.yaml")
    tracker.log(
        parent_id,
        params={
            "seed": cfg.sweep.seed,
            "max_evals": cfg.sweep.max_evals,
            "metric": cfg.sweep.metric,
            "n_startup_jobs": cfg.sweep.n_startup_jobs,
            "searched": ",".join(cfg.search),
            "data_source": data.source,
            "data_sha256": data.sha256 or "unknown",
            **{f"rows_{k}": v for k, v in data.counts.items()},
        },
        tags={
            "sweep.search_space": yaml.safe_dump(
                search, default_flow_style=True, sort_keys=False
            ).strip()[:5000]
        },
    )


def _log_outcome(tracker: Tracker, s: SweepResult) -> None:
    table = pd.DataFrame(
        [
            {
                "trial": t.number,
                "run_id": t.run_id,
                "status": t.status,
                **t.params,
                **t.metrics,
                "fit_seconds": t.fit_seconds,
                "error": t.error or "",
            }
            for t in s.trials
        ]
    )
    tracker.log_table(s.parent_run_id, table, "trials.csv")
    tracker.log(
        s.parent_run_id,
        params={f"best_{k}": v for k, v in s.best.params.items()},
        metrics={
            **{f"best_{k}": v for k, v in s.best.metrics.items()},
            **{f"test_{k}": v for k, v in s.test_metrics.items()},
            "trials_finished": len(s.finished),
            "trials_failed": len(s.trials) - len(s.finished),
            "prepare_seconds": s.prepare_seconds,
        },
        tags={
            "sweep.best_run_id": s.best.run_id,
            "sweep.best_model_uri": s.model_uri or "",
            "sweep.best_trial": s.best.number,
        },
    )
