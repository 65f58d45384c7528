"""Owns successive halving over the training fraction (`sweep.scheduler=halving`): configurations
fitted on seeded samples of the training split first, the best 1/eta of each rung fitted on the
next, only fits on all of it may win. `schedule` is the pure schedule (rungs, brackets,
promotions), `samples` the rungs' samples, `search` the ask/tell loop, `resume` a resumed sweep's
state from its children.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sweep.config import SweepConfig
    from sweep.objective import Objective
    from sweep.progress import Progress
    from sweep.search.resume import History
    from sweep.search.warm_start import Prior
    from sweep.tracking.runs import Tracker

NAME = "halving"


class Halving:
    # Imported when used: the config checks read `schedule` (pure) without Spark or MLflow.
    def parent_params(self, cfg: SweepConfig) -> dict[str, Any]:
        from sweep.schedulers.halving import search

        return search.parent_params(cfg)

    def load_history(self, tracker: Tracker, cfg: SweepConfig, sha256: str | None) -> History:
        from sweep.schedulers.halving import resume

        return resume.load_history(tracker, cfg, sha256)

    def search(
        self,
        cfg: SweepConfig,
        objective: Objective,
        history: History | None,
        prior: Prior | None,  # refused with halving (config_checks): its history is the rungs'
        progress: Progress | None,
    ) -> str:
        from sweep.schedulers.halving import resume, search

        state = history.state if isinstance(history, resume.HalvingHistory) else None
        return search.search(cfg, objective, state, progress)


SCHEDULER = Halving()
