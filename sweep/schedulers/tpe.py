"""Owns plain TPE (`sweep.scheduler=none`): TPE asked for a point whenever a trial slot is free,
every trial fitted on the whole training split, and everything a trial observed told back: its own
point and, with `sweep.curves`, every point of its curves (`sweep.search.observations`), so TPE
never spends a fit to learn what a deeper fit already told it.

Budgets: `sweep.max_evals` trials (a resumed sweep's finished ones count), no new trial after
`sweep.timeout_s`, `sweep.early_stop_rounds` trials without a better best. With
`sweep.parallelism` > 1, trials run in driver threads sharing the SparkSession, each in its own
FAIR pool (`sweep.parallel`); TPE is then asked from the trials finished so far.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from hyperopt import STATUS_OK, base, space_eval, tpe

from sweep import tasks
from sweep.objective import Objective, stalled
from sweep.parallel import finish, pooled
from sweep.records import TrialRecord
from sweep.schedulers import log_time_plot
from sweep.search import observations, resume
from sweep.search.observations import PRIOR, Observation

if TYPE_CHECKING:
    from sweep.config import SweepConfig
    from sweep.progress import Progress
    from sweep.search.resume import History
    from sweep.search.warm_start import Prior
    from sweep.tracking.runs import Tracker

NAME = "none"


class PlainTPE:
    def parent_params(self, cfg: SweepConfig) -> dict[str, Any]:
        return {}  # sweeps from before schedulers recorded none: resume reads no param as this

    def load_history(self, tracker: Tracker, cfg: SweepConfig, sha256: str | None) -> History:
        return resume.load_history(tracker, cfg, sha256)

    def search(
        self,
        cfg: SweepConfig,
        objective: Objective,
        history: History | None,
        prior: Prior | None,
        progress: Progress | None,
    ) -> str:
        earlier = history.finished if history else []
        space, metric = objective.space, cfg.sweep.metric
        known = observations.of_records(prior.records, space, metric, PRIOR) if prior else []
        known += observations.of_records(earlier, space, metric)
        return _Loop(cfg, objective, known, earlier, progress).run()


SCHEDULER = PlainTPE()


class _Loop:
    def __init__(
        self,
        cfg: SweepConfig,
        objective: Objective,
        known: list[Observation],
        earlier: list[TrialRecord],
        progress: Progress | None,
    ):
        s = cfg.sweep
        self.cfg, self.objective, self.metric = cfg, objective, s.metric
        self.known = known  # grows with every finished trial's observations
        self.labels = objective.space.labels()
        self.space = objective.space.hyperopt()
        self.domain = base.Domain(lambda _: {"status": STATUS_OK, "loss": 0.0}, self.space)
        self.algo = partial(tpe.suggest, n_startup_jobs=s.n_startup_jobs)
        # A resumed or warm-started sweep draws from another stream, or it would repeat points.
        self.rstate = np.random.default_rng([s.seed, len(known)] if known else s.seed)
        self.to_run = max(0, s.max_evals - len(earlier))
        self.losses = [self.loss(r) for r in sorted(earlier, key=lambda r: r.number)]
        self.deadline = None if s.timeout_s is None else time.monotonic() + s.timeout_s
        self.bar = progress.bar if progress and s.progress_bar else None
        self.done = len(earlier)
        self.started = time.monotonic()
        self.timeline: list[tuple[float, TrialRecord]] = []  # this process's trials

    def loss(self, record: TrialRecord) -> float:
        return tasks.loss(self.metric, record.at_best(self.metric).metrics[self.metric])

    def ask(self) -> dict[str, Any]:
        """TPE's next point, from every observation so far."""
        trials = observations.trials_of(self.known, self.labels)
        docs = self.algo([len(trials.trials)], self.domain, trials, self.rstate.integers(2**31 - 1))
        vals = docs[0]["misc"]["vals"]
        return space_eval(self.space, {k: v[0] for k, v in vals.items() if v})

    def tell(self, record: TrialRecord, bar: Any) -> None:
        self.timeline.append((time.monotonic() - self.started, record))
        if record.status == "ok":
            self.known += observations.of_record(record, self.objective.space, self.metric)
            self.losses.append(self.loss(record))
        if bar is not None:
            bar.update(1)

    def stop_reason(self, asked: int) -> str | None:
        """Why no further trial may start, or None; the first trial always runs."""
        rounds = self.cfg.sweep.early_stop_rounds
        if asked >= self.to_run:
            return "max_evals"
        if rounds and stalled(self.losses, rounds):
            return "early_stop"
        if asked and self.deadline is not None and time.monotonic() >= self.deadline:
            return "timeout"
        return None

    def run(self) -> str:
        total = self.done + self.to_run
        shown = self.bar(initial=self.done, total=total) if self.bar else nullcontext()
        with shown as bar:
            if self.cfg.sweep.parallelism <= 1:
                reason = self.one_at_a_time(bar)
            else:
                reason = self.in_threads(bar)
        log_time_plot(self.objective, self.timeline, "TPE")
        return reason

    def one_at_a_time(self, bar: Any) -> str:
        asked = 0
        while (reason := self.stop_reason(asked)) is None:
            asked += 1
            self.tell(self.objective(self.ask()), bar)
        return reason

    def in_threads(self, bar: Any) -> str:
        """Up to `sweep.parallelism` trials at once; a free slot asks TPE from the finished ones."""
        spark, asked, reason = self.objective.spark, 0, None
        running: dict[Future, None] = {}
        with ThreadPoolExecutor(self.cfg.sweep.parallelism, thread_name_prefix="trial") as pool:
            while True:
                while reason is None and len(running) < self.cfg.sweep.parallelism:
                    reason = self.stop_reason(asked)
                    if reason is None:
                        asked += 1
                        running[pool.submit(pooled, spark, self.objective, self.ask())] = None
                if not running:
                    return reason or "max_evals"
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    try:
                        record = future.result()
                    except BaseException:
                        finish(running)  # let the other running trials end, then raise
                        raise
                    self.tell(record, bar)
