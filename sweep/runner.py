"""The sweep: prepared data ∘ parent run ∘ hyperopt fmin over child runs ∘ the winner's test
metrics.

`run_sweep` takes a live SparkSession and a connected Tracker, so tests can give it the suite's
session and a temporary store; `sweep.__main__` builds both from config.
"""

from __future__ import annotations

import logging
import signal
import time
from functools import partial
from typing import Any

import numpy as np
from hyperopt import Trials, fmin, tpe
from hyperopt.exceptions import AllTrialsFailed as HyperoptAllTrialsFailed
from pyspark.sql import DataFrame, SparkSession

from sweep import halving_resume, halving_search, parent_run, run_keys, tasks, warm_start
from sweep.config import SweepConfig
from sweep.config_checks import for_task
from sweep.data.prepare import PreparedData, prepared
from sweep.errors import AllTrialsFailed, Interrupted, TooManyFailures
from sweep.interrupts import StopRequest
from sweep.objective import Objective, stalled
from sweep.parallel import fmin_threads
from sweep.parity import logged_parity
from sweep.progress import Progress
from sweep.records import SweepResult, TrialRecord
from sweep.resume import History, load_history
from sweep.space import SearchSpace
from sweep.story import best_so_far_key
from sweep.tracking import history as tracking_history
from sweep.tracking.runs import Tracker
from sweep.trial import TrialResult, evaluate, refit

log = logging.getLogger(__name__)


def run_sweep(
    cfg: SweepConfig,
    spark: SparkSession,
    tracker: Tracker,
    stop: StopRequest | None = None,
    frame: DataFrame | None = None,
) -> SweepResult:
    """The whole sweep; `stop` (set by a signal, see sweep.interrupts) ends it KILLED; `frame`:
    the table as a DataFrame in memory (data=table, `sweep.run`)."""
    started = time.perf_counter()
    stop = stop or StopRequest()
    # Refused before the data and any run, where the metric is known before the data is read
    prior = warm_start.find_prior(tracker, cfg) if cfg.sweep.metric else None
    space = SearchSpace.of(cfg)
    encodings = space.encodings()  # a searched encoding: prepared in each, each trial picks one
    if space.searches_features:
        log.info("Searching the encoding (%s); data.features is not used", ", ".join(encodings))
    bar = cfg.sweep.progress_bar
    with prepared(
        spark, cfg.data, bar, features=encodings[0], also=encodings[1:], frame=frame
    ) as data:
        stop.raise_if_requested()  # a signal during the preparation: no parent run at all
        prepare_seconds = time.perf_counter() - started
        cfg = for_data(cfg, data)
        if cfg.sweep.warm_start and prior is None:  # a table's label decided the metric
            prior = warm_start.find_prior(tracker, cfg)
        history = _load_history(tracker, cfg, data.sha256) if cfg.sweep.resume else None
        resume_id = history.parent_run_id if history else None
        if history:  # a sweep resumed by id goes on in its parent's experiment
            tracker.experiment_id = history.experiment_id
        if prior:
            warm_start.note_data(prior, data.sha256)
        parent_run.describe_runs(cfg, data, tracker)
        with tracker.parent(cfg.sweep.run_name, resume=resume_id) as parent_id:
            parent_run.log_setup(cfg, data, tracker, parent_id, prior)
            first = history.next_number if history else 0
            earlier = history.finished if history else []
            progress = _progress(cfg, tracker, parent_id, earlier)
            objective = Objective(cfg, data, tracker, parent_id, stop, first, on_trial=progress)
            trials = history.trials if history else Trials()
            if prior:  # its trials first, then a resumed sweep's own
                trials = warm_start.seeded_trials(prior, earlier, cfg)
            end_reason = _search(cfg, objective, trials, earlier, progress, history)
            best, result = _winner(cfg, data, objective, earlier)
            test = evaluate(result.fitted, data.in_encoding(best.features).test, data.spec, True)
            test_metrics = test.metrics
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
                spec=data.spec,
                test_confusion=test.confusion,
            )
            parent_run.log_outcome(tracker, summary)
            parent_run.log_plots(cfg, tracker, summary, test, result.importances, data.spec)
            if cfg.registry.enabled and model_uri:
                # before the alias can move: what is served must be what was evaluated
                raw = data.in_encoding(best.features).raw_test_rows()
                agreement = logged_parity(tracker, best.run_id, result.pipeline(), raw)
                summary.registration = parent_run.register_winner(
                    cfg, tracker, summary, data.sha256, agreement
                )
    return summary


def for_data(cfg: SweepConfig, data: PreparedData) -> SweepConfig:
    """The config once the data is read: the task's metric and impurities, and enough bins for
    the table's largest categorical column (`sweep.config_checks.for_task`)."""
    spec = data.spec
    resolved = for_task(cfg, spec.task, spec.binary, spec.min_bins())
    log.info(
        "Task: %s of %r; selecting on validation %s (%s is better)",
        spec.task,
        spec.label,
        resolved.sweep.metric,
        tasks.direction(resolved.sweep.metric),
    )
    return resolved


def _progress(
    cfg: SweepConfig, tracker: Tracker, parent_id: str, earlier: list[TrialRecord]
) -> Progress:
    """The bar's state, which also steps the parent's best-so-far metric after each trial."""
    key = best_so_far_key(cfg.sweep.metric)

    def log_best(step: int, value: float) -> None:
        tracker.log(parent_id, metrics={key: value}, step=step)

    progress = Progress(cfg.sweep.metric, earlier, log_best)
    if earlier:  # resumed: the steps a kill left out
        progress.catch_up(earlier, tracking_history.metric_steps(tracker, parent_id, key))
    return progress


def _load_history(tracker: Tracker, cfg: SweepConfig, sha256: str | None) -> History:
    if cfg.sweep.scheduler == "halving":
        return halving_resume.load_history(tracker, cfg, sha256)
    return load_history(tracker, cfg, sha256)


def _search(
    cfg: SweepConfig,
    objective: Objective,
    trials: Trials,
    earlier: list[TrialRecord],
    progress: Progress | None = None,
    history: History | None = None,
) -> str:
    """Run TPE over child runs until a budget ends it; returns why it ended.

    Raises TooManyFailures past sweep.max_failures, AllTrialsFailed when nothing finished, and
    Interrupted (a KeyboardInterrupt: the runs end KILLED) on SIGINT or SIGTERM.
    """
    s = cfg.sweep
    early_stop = None
    if s.early_stop_rounds:

        def early_stop(trials: Trials, *_: Any) -> tuple[bool, list]:
            losses = [
                t["result"]["loss"]
                for t in trials.trials
                if t["result"]["status"] == "ok" and not warm_start.is_prior(t)
            ]
            return stalled(losses, s.early_stop_rounds), []

    done_before = len(trials.trials)
    # max_evals counts every finished earlier trial, also those a forced resume's new space
    # leaves out of TPE's history (`trials` holds only the ones inside it), and no prior trial
    # of a warm start (in `trials` too).
    budget = done_before + max(0, s.max_evals - len(earlier))
    algo = partial(tpe.suggest, n_startup_jobs=s.n_startup_jobs)
    # A resumed sweep draws from a different stream, or it would repeat its first trials.
    rstate = np.random.default_rng([s.seed, done_before] if done_before else s.seed)
    bar = progress.bar if progress and s.progress_bar else None
    if bar:
        bar = warm_start.own_progress(bar, warm_start.prior_count(trials))
    reason = None
    try:
        if s.scheduler == "halving":  # its own ask/tell loop over rungs, not fmin
            state = history.state if isinstance(history, halving_resume.HalvingHistory) else None
            reason = halving_search.search(cfg, objective, state, progress)
        elif s.parallelism > 1:
            fmin_threads(
                objective,
                objective.space.hyperopt(),
                algo,
                trials,
                max_evals=budget,
                parallelism=s.parallelism,
                rstate=rstate,
                spark=objective.data.train.sparkSession.sparkContext,
                timeout=s.timeout_s,
                early_stop=early_stop,
                progress=bar,
            )
        else:
            fmin(
                objective,
                objective.space.hyperopt(),
                algo=algo,
                max_evals=budget,
                trials=trials,
                rstate=rstate,
                timeout=s.timeout_s,
                early_stop_fn=early_stop,
                show_progressbar=bar or s.progress_bar,
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
    if objective.best is None and not [r for r in earlier if r.train_fraction == 1.0]:
        first = objective.records[0].error if objective.records else "no trial ran"
        objective.tracker.log_while_failing(
            objective.parent_id, tags={run_keys.END_REASON: "failures"}
        )
        raise AllTrialsFailed(
            f"all {len(objective.records)} trials failed; the first: {first}",
            where="sweep",
            fix="See the error.txt artifact of a failed trial",
        )
    if reason is not None:
        return reason
    if len(trials.trials) >= budget:
        return "max_evals"
    return "early_stop" if early_stop and early_stop(trials)[0] else "timeout"


def _winner(
    cfg: SweepConfig, data: PreparedData, objective: Objective, earlier: list[TrialRecord]
) -> tuple[TrialRecord, TrialResult]:
    """The best trial over this run and the resumed history; an earlier winner is refitted
    (same params, same split, same seed) to have its tree in memory."""
    metric = cfg.sweep.metric
    full = [r for r in earlier if r.train_fraction == 1.0]  # halving: only these can win
    old = tasks.best_of(full, metric, lambda r: r.metrics[metric])
    if old is None or (
        objective.best
        and tasks.at_least_as_good(metric, objective.best[0].metrics[metric], old.metrics[metric])
    ):
        return objective.best
    logged, own = old.metrics[metric], data.in_encoding(old.features)
    result = refit(
        own.train,
        own.validation,
        old.params,
        cfg.model,
        metric,
        logged,
        family_name=old.family,
        features=old.features,
        spec=data.spec,
    )
    return old, result


def _log_best_model(
    cfg: SweepConfig, tracker: Tracker, best: TrialRecord, result: TrialResult, data: PreparedData
) -> str | None:
    if cfg.tracking.log_models != "best":  # "all": already on the child; "none": not wanted
        return best.model_uri
    return tracker.log_model(best.run_id, result.pipeline(), data.example, data.spec)
