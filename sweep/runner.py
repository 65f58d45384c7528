"""The sweep: prepared data ∘ parent run ∘ the scheduler's search over child runs ∘ the winner
(refitted at its best point) and its test metrics.

`run_sweep` takes a live SparkSession and a connected Tracker, so tests can give it the suite's
session and a temporary store; `sweep.__main__` builds both from config.
"""

from __future__ import annotations

import logging
import signal
import time

from pyspark.sql import DataFrame, SparkSession

from sweep import parent_run, run_keys, tasks
from sweep.config import SweepConfig
from sweep.config_checks import for_task
from sweep.data.prepare import PreparedData, prepared
from sweep.errors import AllTrialsFailed, Interrupted, TooManyFailures
from sweep.interrupts import StopRequest
from sweep.objective import Objective
from sweep.parity import logged_parity
from sweep.progress import Progress
from sweep.records import SweepResult, TrialRecord, params_line
from sweep.schedulers import Scheduler, scheduler
from sweep.search import warm_start
from sweep.search.bounds import on_bounds
from sweep.search.resume import History
from sweep.search.space import SearchSpace
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
        schedule = scheduler(cfg.sweep.scheduler)
        history = schedule.load_history(tracker, cfg, data.sha256) if cfg.sweep.resume else None
        resume_id = history.parent_run_id if history else None
        if history:  # a sweep resumed by id goes on in its parent's experiment
            tracker.experiment_id = history.experiment_id
        if prior:
            warm_start.note_data(prior, data.sha256)
        parent_run.describe_runs(cfg, data, tracker)
        with tracker.parent(cfg.sweep.run_name, resume=resume_id) as parent_id:
            parent_run.log_setup(cfg, data, tracker, parent_id, prior)
            if schedule_params := schedule.parent_params(cfg):  # what a resume must match
                tracker.log(parent_id, params=schedule_params)
            first = history.next_number if history else 0
            earlier = history.finished if history else []
            progress = _progress(cfg, tracker, parent_id, earlier)
            objective = Objective(cfg, data, tracker, parent_id, stop, first, on_trial=progress)
            end_reason = _search(cfg, schedule, objective, history, prior, progress)
            best, result = _winner(cfg, data, objective, earlier)
            test = evaluate(result.fitted, data.in_encoding(best.features).test, data.spec, True)
            test_metrics = test.metrics
            model_uri = _log_best_model(cfg, tracker, parent_id, best, result, data)
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
                bounds=on_bounds(best, objective.space),
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


def _search(
    cfg: SweepConfig,
    schedule: Scheduler,
    objective: Objective,
    history: History | None,
    prior: warm_start.Prior | None,
    progress: Progress | None,
) -> str:
    """The scheduler's search until a budget ends it; returns why it ended.

    Raises TooManyFailures past sweep.max_failures, AllTrialsFailed when nothing finished, and
    Interrupted (a KeyboardInterrupt: the runs end KILLED) on SIGINT or SIGTERM.
    """
    earlier = history.finished if history else []
    try:
        reason = schedule.search(cfg, objective, history, prior, progress)
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
    if objective.best is None and not [r for r in earlier if r.may_win]:
        first = objective.records[0].error if objective.records else "no trial ran"
        objective.tracker.log_while_failing(
            objective.parent_id, tags={run_keys.END_REASON: "failures"}
        )
        raise AllTrialsFailed(
            f"all {len(objective.records)} trials failed; the first: {first}",
            where="sweep",
            fix="See the error.txt artifact of a failed trial",
        )
    return reason


def _winner(
    cfg: SweepConfig, data: PreparedData, objective: Objective, earlier: list[TrialRecord]
) -> tuple[TrialRecord, TrialResult]:
    """The best point over this run and the resumed history, each trial at its best point
    (`TrialRecord.at_best`: with curves, perhaps a smaller depth than it fitted). A winner not
    in memory as it is (an earlier trial's, or a curve's point) is refitted with exactly its
    params, on the same split with the same seed: a real Spark model of that depth."""
    metric = cfg.sweep.metric
    mine = [objective.best[0]] if objective.best else []
    candidates = [r.at_best(metric) for r in [*mine, *earlier] if r.may_win]  # ties: this run's
    best = tasks.best_of(candidates, metric, lambda r: r.metrics[metric])
    if objective.best and best.params == objective.best[1].params and best.run_id == mine[0].run_id:
        return objective.best
    own = data.in_encoding(best.features)
    result = refit(
        own.train,
        own.validation,
        best.params,
        cfg.model,
        metric,
        best.metrics[metric],
        family_name=best.family,
        features=best.features,
        spec=data.spec,
    )
    log.info("The winner, trial %d at %s, refitted", best.number, params_line(best))
    best.metrics = {**best.metrics, **result.metrics}
    return best, result


def _log_best_model(
    cfg: SweepConfig,
    tracker: Tracker,
    parent_id: str,
    best: TrialRecord,
    result: TrialResult,
    data: PreparedData,
) -> str | None:
    """The winner's model URI. `tracking.log_models=best`: logged now on its child; `all`: the
    child's own, or, when the winner has none (a point of its curve, `sweep.curves`, or a resumed
    sweep's trial), its refit logged on the parent; `none`: not wanted."""
    mode = cfg.tracking.log_models
    if mode == "none" or (mode == "all" and best.model_uri):
        return best.model_uri
    where = best.run_id if mode == "best" else parent_id
    return tracker.log_model(where, result.pipeline(), data.example, data.spec)
