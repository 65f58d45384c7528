"""Resume a sweep from MLflow, the single source of truth: no second database to keep in sync.

The parent run's FINISHED children are the history: their Spark params, validation metric and
validation curves (the stepped `<metric>_by_depth`, `sweep.curves`) become TPE's observations again
(`sweep.search.observations`), so TPE goes on where it stopped and only the missing trials run.
Children that a crash left RUNNING are ended FAILED, with a tag saying so, and do not count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sweep import curves, run_keys, tasks
from sweep.config import SweepConfig
from sweep.errors import ConfigError
from sweep.models import family
from sweep.records import TrialRecord
from sweep.search.space import SEARCHED, SearchSpace, from_logged
from sweep.tracking import history
from sweep.tracking.runs import Tracker

if TYPE_CHECKING:
    from sweep.tracking.history import Run

log = logging.getLogger(__name__)


@dataclass
class History:
    parent_run_id: str
    experiment_id: str  # the parent's: a resumed sweep's new children go there
    finished: list[TrialRecord]
    next_number: int  # trial numbers continue after every earlier child, failed ones included


def load_history(tracker: Tracker, cfg: SweepConfig, sha256: str | None) -> History:
    parent = history.find_parent(tracker, cfg.sweep.resume, tracker.experiment_id, "sweep.resume")
    check_compatible(parent, cfg, sha256)
    features = parent.data.params.get(run_keys.FEATURES, "onehot")
    finished, numbers = [], [-1]
    for child in history.children(tracker, parent):
        numbers.append(int(child.data.tags.get(run_keys.TRIAL, -1)))
        status = child.info.status
        if status == "RUNNING":
            tracker.end(
                child.info.run_id,
                "FAILED",
                "left RUNNING by an interrupted sweep; ended FAILED on resume",
            )
        elif status == "FINISHED" and cfg.sweep.metric in child.data.metrics:
            record = record_of(child, cfg.model.family, features)
            record.curves = curves_of(tracker, child, cfg.sweep.metric)
            finished.append(record)
    log.info("Resuming sweep %s: %d finished trials", parent.info.run_id, len(finished))
    outside = sum(not inside(r, SearchSpace.of(cfg)) for r in finished)
    if outside:
        log.warning(
            "%d finished trials lie outside the current search space; TPE ignores them", outside
        )
    return History(parent.info.run_id, parent.info.experiment_id, finished, max(numbers) + 1)


def inside(record: TrialRecord, space: SearchSpace) -> bool:
    """Whether a finished trial is a point of `space` (its family, encoding and values)."""
    table = family(record.family).PARAMS
    return space.vals(record.family, record.params, table, record.features) is not None


def curves_of(tracker: Tracker, child: Run, metric: str) -> curves.Curves:
    """A child's validation curves of `metric`, from its stepped metrics (none logged: none)."""
    found: curves.Curves = {}
    for param, suffix in curves.SUFFIX.items():
        if metric + suffix in child.data.metrics:
            steps = tracker.client.get_metric_history(child.info.run_id, metric + suffix)
            found[param] = {int(m.step): {metric: m.value} for m in steps}
    return found


def check_compatible(parent: Run, cfg: SweepConfig, sha256: str | None) -> None:
    # Sweeps from before model families were all decision trees.
    recorded_family = parent.data.params.get(run_keys.FAMILY, "dtree")
    if recorded_family != cfg.model.family:  # its trials cannot be refitted as another family
        raise ConfigError(
            f"cannot resume sweep {parent.info.run_id} of model={recorded_family} "
            f"as model={cfg.model.family}",
            where="sweep.resume",
            fix=f"Add model={recorded_family}, or start a new sweep",
        )
    if cfg.sweep.scheduler == "none" and run_keys.SCHEDULER in parent.data.params:
        raise ConfigError(  # its fits on parts of the data are no trials of a plain sweep
            f"cannot resume sweep {parent.info.run_id} of sweep.scheduler="
            f"{parent.data.params[run_keys.SCHEDULER]} without it",
            where="sweep.resume",
            fix=f"Add sweep.scheduler={parent.data.params[run_keys.SCHEDULER]} and the sweep's "
            "sweep.fidelity settings",
        )
    # Sweeps from before encodings were all one-hot; trials of another encoding cannot be refitted.
    recorded_features = parent.data.params.get(run_keys.FEATURES, "onehot")
    wanted = SearchSpace.of(cfg).recorded_features()
    if recorded_features != wanted:
        raise ConfigError(
            f"cannot resume sweep {parent.info.run_id} of {_encoding(recorded_features)} "
            f"as {_encoding(wanted)}",
            where="sweep.resume",
            fix=f"Resume with {_encoding(recorded_features)}, or start a new sweep",
        )
    recorded_space = parent.data.tags.get(run_keys.SEARCH_SPACE)
    recorded_sha = parent.data.params.get(run_keys.DATA_SHA256)
    problems = []
    if recorded_space is not None and recorded_space != SearchSpace.of(cfg).tag():
        problems.append(f"the search space differs (recorded: {recorded_space})")
    if recorded_sha not in (None, "unknown") and recorded_sha != (sha256 or "unknown"):
        problems.append(f"the data differs (sha256 {sha256}, recorded {recorded_sha})")
    if problems and not cfg.sweep.resume_force:
        raise ConfigError(
            f"cannot resume sweep {parent.info.run_id}: " + "; ".join(problems),
            where="sweep.resume",
            fix="Resume with the sweep's own search space and data, or add "
            "sweep.resume_force=true to resume anyway",
        )
    for problem in problems:
        log.warning("Resuming although %s (sweep.resume_force=true)", problem)


def _encoding(recorded: str) -> str:
    """A parent's param `features` as the setting that gives it."""
    return "search.features (searched)" if recorded == SEARCHED else f"data.features={recorded}"


def record_of(child: Run, sweep_family: str, sweep_features: str = "onehot") -> TrialRecord:
    """A finished child as a trial record; children of sweeps from before model families (or of
    a one-family sweep) fitted the sweep's family, those from before each child recorded its
    encoding the sweep's (its parent's param `features`)."""
    metrics = child.data.metrics
    fitted = child.data.params.get(run_keys.FAMILY, sweep_family)
    features = child.data.params.get(run_keys.FEATURES, sweep_features)
    return TrialRecord(
        number=int(child.data.tags.get(run_keys.TRIAL, -1)),
        run_id=child.info.run_id,
        status="ok",
        name=child.info.run_name or "",
        params=from_logged(child.data.params, family(fitted).PARAMS),
        metrics={k: metrics[k] for k in tasks.all_metrics() if k in metrics},
        fit_seconds=metrics.get(run_keys.FIT_SECONDS, 0.0),
        eval_seconds=metrics.get(run_keys.EVAL_SECONDS, 0.0),
        family=fitted,
        features=features,
    )
