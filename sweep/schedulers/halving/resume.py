"""Owns resuming a sweep of sweep.scheduler=halving from its children in MLflow: each child's
`sweep.config` tag, `rung` and `train_fraction` params rebuild which configuration reached which
rung with which result, so the schedule goes on where it stopped (`search` skips the
fits that finished and promotes exactly as it would have).

Children left RUNNING are ended FAILED, as in sweep.resume; a fit that did not finish is run
again. A configuration is known (and counts for max_evals) once any child of it exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sweep import run_keys
from sweep.config import SweepConfig
from sweep.errors import ConfigError
from sweep.models import family
from sweep.schedulers.halving.search import HalvingState, parent_params
from sweep.search.resume import History, check_compatible, curves_of, record_of
from sweep.search.space import SearchSpace
from sweep.tracking import history
from sweep.tracking.runs import Tracker

if TYPE_CHECKING:
    from sweep.tracking.history import Run

log = logging.getLogger(__name__)


@dataclass
class HalvingHistory(History):
    state: HalvingState = field(default_factory=HalvingState)


def load_history(tracker: Tracker, cfg: SweepConfig, sha256: str | None) -> HalvingHistory:
    parent = history.find_parent(tracker, cfg.sweep.resume, tracker.experiment_id, "sweep.resume")
    check_compatible(parent, cfg, sha256)
    children = history.children(tracker, parent)
    check_schedule(parent, cfg, bool(children))
    state, finished, numbers, outside = HalvingState(), [], [-1], 0
    space = SearchSpace.of(cfg)
    labels = space.labels()
    features = parent.data.params.get(run_keys.FEATURES, "onehot")
    for child in children:
        numbers.append(int(child.data.tags.get(run_keys.TRIAL, -1)))
        if child.info.status == "RUNNING":
            tracker.end(
                child.info.run_id,
                "FAILED",
                "left RUNNING by an interrupted sweep; ended FAILED on resume",
            )
        record = record_of(child, cfg.model.family, features)
        config, rung = fit_key(child)
        table = family(record.family).PARAMS
        vals = space.vals(record.family, record.params, table, record.features)
        if vals is None:
            outside += 1
            continue
        # every label of the space, those of a branch not taken empty (as hyperopt stores them)
        state.points.setdefault(config, {k: [vals[k]] if k in vals else [] for k in labels})
        if child.info.status == "FINISHED" and cfg.sweep.metric in record.metrics:
            record.curves = curves_of(tracker, child, cfg.sweep.metric)
            record.config, record.rung = config, rung
            record.train_fraction = float(child.data.params[run_keys.TRAIN_FRACTION])
            finished.append(record)
            state.results[(config, rung)] = record
    if outside:
        log.warning("%d fits lie outside the current search space; they are left out", outside)
    log.info(
        "Resuming halving sweep %s: %d configurations, %d finished fits",
        parent.info.run_id,
        len(state.points),
        len(finished),
    )
    return HalvingHistory(
        parent.info.run_id, parent.info.experiment_id, finished, max(numbers) + 1, state
    )


def fit_key(child: Run) -> tuple[int, int]:
    """(configuration, rung) of a child; a child without them is not a halving fit."""
    try:
        return int(child.data.tags[run_keys.CONFIG]), int(child.data.params[run_keys.RUNG])
    except (KeyError, ValueError) as exc:
        raise ConfigError(
            f"child run {child.info.run_id} has no configuration and rung",
            where="sweep.resume",
            fix="Resume a sweep of sweep.scheduler=halving, or start a new one",
        ) from exc


def check_schedule(parent: Run, cfg: SweepConfig, has_children: bool) -> None:
    """The rungs and brackets must be those the sweep started with: its fits and promotions
    would not mean the same under another eta or min_fraction. A parent without the schedule's
    params and without children was stopped before its search began: nothing to keep."""
    recorded = {k: parent.data.params.get(k) for k in parent_params(cfg)}
    wanted = {k: str(v) for k, v in parent_params(cfg).items()}
    if recorded[run_keys.SCHEDULER] is None and not has_children:
        return
    if recorded != wanted:
        have = ", ".join(f"{k}={v or 'none'}" for k, v in recorded.items())
        raise ConfigError(
            f"cannot resume sweep {parent.info.run_id} ({have}) with sweep.scheduler=halving, "
            f"eta={cfg.sweep.fidelity.eta}, min_fraction={cfg.sweep.fidelity.min_fraction}",
            where="sweep.scheduler",
            fix="Resume with the sweep's own scheduler and sweep.fidelity settings",
        )
