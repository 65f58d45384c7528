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
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sweep.config import SweepConfig
    from sweep.objective import Objective
    from sweep.progress import Progress
    from sweep.search.resume import History
    from sweep.search.warm_start import Prior
    from sweep.tracking.runs import Tracker


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
