"""Owns the schedulers: how a sweep spends its budget of fits, behind one small interface.

A scheduler is one module (or folder) of this package with `NAME` (what `sweep.scheduler=<NAME>`
selects) and `SCHEDULER`, an object with:

- `parent_params(cfg)`: what the parent run records about the schedule (resume compares it);
- `load_history(tracker, cfg, sha256)`: a resumed sweep's children as its `History`;
- `search(cfg, objective, history, prior, progress)`: ask TPE, fit through `objective` (one child
  run per fit), until a budget ends it; returns why (`max_evals`, `timeout`, `early_stop`).

What TPE learns from is `sweep.search.observations`, whatever the scheduler: a third scheduler is
one more module here. Whether a fit may win is the record's (`TrialRecord.may_win`).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sweep.config import SweepConfig
    from sweep.objective import Objective
    from sweep.progress import Progress
    from sweep.records import TrialRecord
    from sweep.search.resume import History
    from sweep.search.warm_start import Prior
    from sweep.tracking.runs import Tracker

log = logging.getLogger(__name__)


class Scheduler(Protocol):
    def parent_params(self, cfg: SweepConfig) -> dict[str, Any]: ...

    def load_history(self, tracker: Tracker, cfg: SweepConfig, sha256: str | None) -> History: ...

    def search(
        self,
        cfg: SweepConfig,
        objective: Objective,
        history: History | None,
        prior: Prior | None,
        progress: Progress | None,
    ) -> str: ...


@cache
def schedulers() -> dict[str, Scheduler]:
    """Every scheduler of this package, by its NAME."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.NAME] = module.SCHEDULER
    return found


def scheduler(name: str) -> Scheduler:
    return schedulers()[name]


def log_time_plot(
    objective: Objective, timeline: list[tuple[float, TrialRecord]], label: str
) -> None:
    """The parent's `plots/best_vs_time.png`: each finished fit at its best point against the
    seconds since the search started. A drawing problem is a warning, not a lost sweep."""
    from sweep import time_plot

    metric = objective.cfg.sweep.metric
    fits = [
        (t, r.at_best(metric).metrics[metric], r.train_fraction)
        for t, r in timeline
        if r.status == "ok"
    ]
    try:
        figure = time_plot.best_vs_time({label: fits}, metric)
    except Exception as exc:  # noqa: BLE001
        log.warning("Could not draw plots/best_vs_time.png: %s", exc)
        return
    objective.tracker.log_figure(objective.parent_id, figure, "plots/best_vs_time.png")
