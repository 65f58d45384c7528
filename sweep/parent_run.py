"""Owns what a sweep's parent run records, and what every run of it carries: the setup (config,
search space, data, source tags and dataset inputs), the outcome (best trial, test metrics, the
trials table, the description the UI shows), the plots, and the registration's tags.

`sweep.runner` decides when; this module decides what is written, through the Tracker.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import OmegaConf

from sweep import lineage, plots, run_keys, tasks
from sweep.config import SweepConfig
from sweep.data.prepare import PreparedData
from sweep.data.spec import DatasetSpec
from sweep.records import Registration
from sweep.search.space import SearchSpace
from sweep.story import NOTE_TAG, parent_note, version_note
from sweep.tasks import Evaluation
from sweep.tracking.registry import Candidate, register
from sweep.tracking.runs import Tracker
from sweep.tracking.uri import redact

if TYPE_CHECKING:  # the runner imports this module
    from sweep.parity import Parity
    from sweep.records import SweepResult, TrialRecord
    from sweep.search.warm_start import Prior

log = logging.getLogger(__name__)


def describe_runs(cfg: SweepConfig, data: PreparedData, tracker: Tracker) -> None:
    """Every run of this sweep gets MLflow's source tags and the three splits as inputs."""
    tracker.run_tags.update(lineage.source_tags(lineage.code_commit(), lineage.entry_point()))
    tracker.inputs = lineage.data_inputs(data.source, data.sha256, data.counts, cfg.data, data.spec)


def register_winner(
    cfg: SweepConfig,
    tracker: Tracker,
    s: SweepResult,
    sha256: str | None,
    agreement: Parity | None = None,
) -> Registration:
    """Register the winner, set `s.registration` (the parent's description names the version),
    and tag the parent with the registry's decision. `agreement`: the JVM-free scorer against
    Spark on the test split; a version that disagrees is registered, not promoted."""
    candidate = Candidate(
        model_uri=s.model_uri,
        parent_run_id=s.parent_run_id,
        child_run_id=s.best.run_id,
        metric=s.metric,
        validation_value=s.best.metrics[s.metric],
        test_metrics=s.test_metrics,
        data_sha256=sha256,
        description=version_note(s),
        parity=agreement.tag if agreement else None,
        parity_ok=agreement.ok if agreement else True,
    )
    registration = register(tracker, cfg.registry, candidate)
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


def log_setup(
    cfg: SweepConfig,
    data: PreparedData,
    tracker: Tracker,
    parent_id: str,
    prior: Prior | None = None,
) -> None:
    """`prior`: the warm start's, recorded as the params `warm_start_run_id`/`_trials`."""
    space = SearchSpace.of(cfg)
    recorded = OmegaConf.structured(cfg)
    recorded.tracking.uri = redact(cfg.tracking.uri)  # a password in the URI stays out of MLflow
    tracker.log_text(parent_id, OmegaConf.to_yaml(recorded), "config.yaml")
    tracker.log_text(parent_id, space.as_yaml(), "search_space.yaml")
    tracker.log(
        parent_id,
        params={
            run_keys.FAMILY: cfg.model.family,
            run_keys.FEATURES: space.recorded_features(),  # or `searched`: see each child's
            "seed": cfg.sweep.seed,
            "max_evals": cfg.sweep.max_evals,
            "metric": cfg.sweep.metric,
            "n_startup_jobs": cfg.sweep.n_startup_jobs,
            "searched": ",".join(space.label(f, n) for f, e in space.branches.items() for n in e),
            "data_source": data.source,
            run_keys.DATA_SHA256: data.sha256 or "unknown",
            run_keys.LABEL: data.spec.label,
            run_keys.TASK: data.spec.task,
            "metric_direction": tasks.direction(cfg.sweep.metric),
            run_keys.ROWS_WITHOUT_LABEL: data.spec.dropped_rows,
            **{f"rows_{k}": v for k, v in data.counts.items()},
            **(prior.params() if prior else {}),
        },
        tags={
            run_keys.SEARCH_SPACE: space.tag(),
            run_keys.DATA_CACHE: data.cache,
        },
    )
    if data.spec.profile:  # a table: how each of its columns is used
        tracker.log_table(parent_id, columns_table(data.spec), "columns.csv")
        tracker.log_text(parent_id, data.spec.to_json(), "dataset_spec.json")


def columns_table(spec: DatasetSpec) -> pd.DataFrame:
    """column, type, role, cardinality and missing share of each column of the table."""
    return pd.DataFrame(
        [
            {
                "column": p.name,
                "type": p.type,
                "role": p.role,
                "distinct": p.distinct,
                "missing": p.missing,
                "note": p.note,
            }
            for p in spec.profile
        ]
    )


def log_plots(
    cfg: SweepConfig,
    tracker: Tracker,
    s: SweepResult,
    test: Evaluation,
    importances: dict[str, float],
    spec: DatasetSpec,
) -> None:
    """The PNGs on the parent run: a classification's confusion matrix, a regression's
    predicted-vs-actual and residuals. A drawing problem is a warning, not a lost sweep."""
    figures = {
        "plots/history.png": lambda: plots.history(s.trials, s.metric),
        "plots/parameters.png": lambda: plots.parameters(s.trials, s.metric, SearchSpace.of(cfg)),
        "plots/feature_importances.png": lambda: plots.importances(importances),
    }
    if test.confusion is not None:
        figures["plots/confusion_matrix.png"] = lambda: plots.confusion(
            test.confusion, spec.class_names()
        )
    if test.pairs:
        figures["plots/predicted_vs_actual.png"] = lambda: plots.predicted_vs_actual(test.pairs)
    for path, draw in figures.items():
        try:
            figure = draw()
        except Exception as exc:  # noqa: BLE001  (tracking errors below still propagate)
            log.warning("Could not draw %s: %s", path, exc)
            continue
        tracker.log_figure(s.parent_run_id, figure, path)


def _fidelity(t: TrialRecord) -> dict[str, float]:
    return {"rung": t.rung, "train_fraction": t.train_fraction}  # sweep.scheduler=halving


def log_outcome(tracker: Tracker, s: SweepResult) -> None:
    table = pd.DataFrame(
        [
            {
                "trial": t.number,
                "run_id": t.run_id,
                "status": t.status,
                run_keys.FAMILY: t.family,
                run_keys.FEATURES: t.features,
                **t.params,
                **(_fidelity(t) if t.rung is not None else {}),
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
        params={
            f"{run_keys.BEST}{run_keys.FAMILY}": s.best.family,
            f"{run_keys.BEST}{run_keys.FEATURES}": s.best.features,
            **{f"{run_keys.BEST}{k}": v for k, v in s.best.params.items()},
        },
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
            **({run_keys.ON_BOUND: "; ".join(b.tag() for b in s.bounds)} if s.bounds else {}),
        },
    )
