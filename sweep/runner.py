"""The sweep: prepared data ∘ parent run ∘ hyperopt fmin over child runs ∘ the winner's test
metrics.

`run_sweep` takes a live SparkSession and a connected Tracker, so tests can give it the suite's
session and a temporary store; `sweep.__main__` builds both from config.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hyperopt import Trials, fmin, tpe
from hyperopt.exceptions import AllTrialsFailed as HyperoptAllTrialsFailed
from omegaconf import OmegaConf
from pyspark.sql import SparkSession

from sweep import lineage, plots, run_keys
from sweep.config import SweepConfig
from sweep.data import PreparedData, prepared
from sweep.errors import AllTrialsFailed, Interrupted, TooManyFailures
from sweep.interrupts import StopRequest
from sweep.models import family
from sweep.objective import Objective, TrialRecord, stalled
from sweep.parallel import fmin_threads
from sweep.progress import Progress
from sweep.registry import Candidate, Registration, register
from sweep.resume import load_history, search_space_tag
from sweep.retry import redact
from sweep.space import build_space
from sweep.story import NOTE_TAG, best_so_far_key, parent_note, version_note
from sweep.tracking import Tracker
from sweep.trial import (
    Confusion,
    TrialResult,
    confusion_matrix,
    metrics_from_confusion,
    refit,
)

log = logging.getLogger(__name__)


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
    end_reason: str = "max_evals"  # or timeout, early_stop

    @property
    def finished(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == "ok"]


def run_sweep(
    cfg: SweepConfig, spark: SparkSession, tracker: Tracker, stop: StopRequest | None = None
) -> SweepResult:
    """The whole sweep; `stop` (set by a signal, see sweep.interrupts) ends it KILLED."""
    started = time.perf_counter()
    stop = stop or StopRequest()
    with prepared(spark, cfg.data, progress=cfg.sweep.progress_bar) as data:
        stop.raise_if_requested()  # a signal during the preparation: no parent run at all
        prepare_seconds = time.perf_counter() - started
        history = load_history(tracker, cfg, data.sha256) if cfg.sweep.resume else None
        resume_id = history.parent_run_id if history else None
        _describe_runs(cfg, data, tracker)
        with tracker.parent(cfg.sweep.run_name, resume=resume_id) as parent_id:
            _log_setup(cfg, data, tracker, parent_id)
            first = history.next_number if history else 0
            earlier = history.finished if history else []
            progress = _progress(cfg, tracker, parent_id, earlier)
            objective = Objective(cfg, data, tracker, parent_id, stop, first, on_trial=progress)
            trials = history.trials if history else Trials()
            end_reason = _search(cfg, objective, trials, earlier, progress)
            best, result = _winner(cfg, data, objective, earlier)
            test_confusion = confusion_matrix(result.fitted, data.test)
            test_metrics = metrics_from_confusion(test_confusion)
            model_uri = _log_best_model(cfg, tracker, best, result, data)
            summary = SweepResult(
                parent_id,
                tracker.experiment_id,
                tracker.uri,
                cfg.sweep.metric,
                earlier + objective.records,
                best,
                test_metrics,
                model_uri,
                data.counts,
                time.perf_counter() - started,
                prepare_seconds,
                end_reason=end_reason,
            )
            _log_outcome(tracker, summary)
            _log_plots(cfg, tracker, summary, test_confusion, result.importances)
            if cfg.registry.enabled and model_uri:
                summary.registration = _register(cfg, tracker, summary, data.sha256)
    return summary


def _describe_runs(cfg: SweepConfig, data: PreparedData, tracker: Tracker) -> None:
    """Every run of this sweep gets MLflow's source tags and the three splits as inputs."""
    tracker.run_tags.update(lineage.source_tags(lineage.code_commit(), lineage.entry_point()))
    tracker.inputs = lineage.data_inputs(data.source, data.sha256, data.counts, cfg.data)


def _progress(
    cfg: SweepConfig, tracker: Tracker, parent_id: str, earlier: list[TrialRecord]
) -> Progress:
    """The bar's state, which also steps the parent's best-so-far metric after each trial."""
    key = best_so_far_key(cfg.sweep.metric)

    def log_best(step: int, value: float) -> None:
        tracker.log(parent_id, metrics={key: value}, step=step)

    return Progress(cfg.sweep.metric, earlier, log_best)


def _search(
    cfg: SweepConfig,
    objective: Objective,
    trials: Trials,
    earlier: list[TrialRecord],
    progress: Progress | None = None,
) -> str:
    """Run TPE over child runs until a budget ends it; returns why it ended.

    Raises TooManyFailures past sweep.max_failures, AllTrialsFailed when nothing finished, and
    Interrupted (a KeyboardInterrupt: the runs end KILLED) on SIGINT or SIGTERM.
    """
    s = cfg.sweep
    early_stop = None
    if s.early_stop_rounds:

        def early_stop(trials: Trials, *_: Any) -> tuple[bool, list]:
            losses = [t["result"]["loss"] for t in trials.trials if t["result"]["status"] == "ok"]
            return stalled(losses, s.early_stop_rounds), []

    done_before = len(trials.trials)
    # max_evals counts every finished earlier trial, also those a forced resume's new space
    # leaves out of TPE's history (`trials` holds only the ones inside it).
    budget = done_before + max(0, s.max_evals - len(earlier))
    algo = partial(tpe.suggest, n_startup_jobs=s.n_startup_jobs)
    # A resumed sweep draws from a different stream, or it would repeat its first trials.
    rstate = np.random.default_rng([s.seed, done_before] if done_before else s.seed)
    try:
        if s.parallelism > 1:
            fmin_threads(
                objective,
                build_space(cfg.search),
                algo,
                trials,
                max_evals=budget,
                parallelism=s.parallelism,
                rstate=rstate,
                spark=objective.data.train.sparkSession.sparkContext,
                timeout=s.timeout_s,
                early_stop=early_stop,
                progress=progress.bar if progress and s.progress_bar else None,
            )
        else:
            fmin(
                objective,
                build_space(cfg.search),
                algo=algo,
                max_evals=budget,
                trials=trials,
                rstate=rstate,
                timeout=s.timeout_s,
                early_stop_fn=early_stop,
                show_progressbar=progress.bar if progress and s.progress_bar else s.progress_bar,
            )
    except HyperoptAllTrialsFailed:
        pass  # raised by fmin's final argmin; ours below says which trial failed and why
    except KeyboardInterrupt as exc:
        finished = len(earlier) + sum(r.status == "ok" for r in objective.records)
        objective.tracker.log_while_failing(
            objective.parent_id, tags={run_keys.END_REASON: "interrupted"}
        )
        raise Interrupted(
            getattr(exc, "signum", signal.SIGINT),
            objective.parent_id,
            finished,
            len(objective.failed),
        ) from exc
    except TooManyFailures:
        objective.tracker.log_while_failing(
            objective.parent_id, tags={run_keys.END_REASON: "failures"}
        )
        raise
    if objective.best is None and not earlier:
        first = objective.records[0].error if objective.records else "no trial ran"
        objective.tracker.log_while_failing(
            objective.parent_id, tags={run_keys.END_REASON: "failures"}
        )
        raise AllTrialsFailed(
            f"all {len(objective.records)} trials failed; the first: {first}",
            where="sweep",
            fix="See the error.txt artifact of a failed trial",
        )
    if len(trials.trials) >= budget:
        return "max_evals"
    return "early_stop" if early_stop and early_stop(trials)[0] else "timeout"


def _winner(
    cfg: SweepConfig, data: PreparedData, objective: Objective, earlier: list[TrialRecord]
) -> tuple[TrialRecord, TrialResult]:
    """The best trial over this run and the resumed history; an earlier winner is refitted
    (same params, same split, same seed) to have its tree in memory."""
    metric = cfg.sweep.metric
    old = max(earlier, key=lambda r: r.metrics[metric], default=None)
    if old is None or (objective.best and objective.best[0].metrics[metric] >= old.metrics[metric]):
        return objective.best
    result = refit(data.train, data.validation, old.params, cfg.model, metric, old.metrics[metric])
    return old, result


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
        description=version_note(s),
    )
    registration = register(tracker.client, cfg.registry, candidate)
    s.registration = registration
    tracker.log(
        s.parent_run_id,
        tags={
            run_keys.REGISTERED_MODEL: f"{registration.name}/{registration.version}",
            run_keys.PROMOTION: registration.reason,
            NOTE_TAG: parent_note(s),  # now with the registered version
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
    search = {
        name: {k: v for k, v in vars(spec).items() if v is not None}
        for name, spec in cfg.search.items()
    }
    recorded = OmegaConf.structured(cfg)
    recorded.tracking.uri = redact(cfg.tracking.uri)  # a password in the URI stays out of MLflow
    tracker.log_text(parent_id, OmegaConf.to_yaml(recorded), "config.yaml")
    tracker.log_text(parent_id, yaml.safe_dump(search, sort_keys=False), "search_space.yaml")
    tracker.log(
        parent_id,
        params={
            run_keys.FAMILY: cfg.model.family,
            "seed": cfg.sweep.seed,
            "max_evals": cfg.sweep.max_evals,
            "metric": cfg.sweep.metric,
            "n_startup_jobs": cfg.sweep.n_startup_jobs,
            "searched": ",".join(cfg.search),
            "data_source": data.source,
            run_keys.DATA_SHA256: data.sha256 or "unknown",
            **{f"rows_{k}": v for k, v in data.counts.items()},
        },
        tags={
            run_keys.SEARCH_SPACE: search_space_tag(cfg.search),
            run_keys.DATA_CACHE: data.cache,
        },
    )


def _log_plots(
    cfg: SweepConfig,
    tracker: Tracker,
    s: SweepResult,
    test_confusion: Confusion,
    importances: dict[str, float],
) -> None:
    """The PNGs on the parent run. A drawing problem is a warning, not a lost sweep."""
    figures = {
        "plots/history.png": lambda: plots.history(s.trials, s.metric),
        "plots/parameters.png": lambda: plots.parameters(
            s.trials, s.metric, cfg.search, family(cfg.model.family).PARAMS
        ),
        "plots/confusion_matrix.png": lambda: plots.confusion(test_confusion),
        "plots/feature_importances.png": lambda: plots.importances(importances),
    }
    for path, draw in figures.items():
        try:
            figure = draw()
        except Exception as exc:  # noqa: BLE001  (tracking errors below still propagate)
            log.warning("Could not draw %s: %s", path, exc)
            continue
        tracker.log_figure(s.parent_run_id, figure, path)


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
        params={f"{run_keys.BEST}{k}": v for k, v in s.best.params.items()},
        metrics={
            **{f"{run_keys.BEST}{k}": v for k, v in s.best.metrics.items()},
            **{f"{run_keys.TEST}{k}": v for k, v in s.test_metrics.items()},
            "trials_finished": len(s.finished),
            "trials_failed": len(s.trials) - len(s.finished),
            "prepare_seconds": s.prepare_seconds,
        },
        tags={
            run_keys.BEST_RUN_ID: s.best.run_id,
            run_keys.BEST_MODEL_URI: s.model_uri or "",
            run_keys.BEST_TRIAL: s.best.number,
            run_keys.END_REASON: s.end_reason,
            NOTE_TAG: parent_note(s),
        },
    )
