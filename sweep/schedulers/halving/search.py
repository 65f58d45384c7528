"""Owns the search loop of sweep.scheduler=halving: TPE asked for a bracket's configurations
`sweep.parallelism` at a time, each batch fitted on the bracket's first rung before the next is
asked, then the survivors fitted rung by rung (up to `sweep.parallelism` at once), and the budgets
(max_evals, timeout_s, early_stop_rounds) applied.

TPE's history is rebuilt before each ask from every configuration so far (and every point of its
curves, `sweep.curves`), ranked by the highest rung it reached and its score there
(`schedule.ranked_losses`), so that scores are only compared on one fraction of the data. A
configuration's score on a rung is its best point (its best depth, with curves). The schedule
itself (rungs, brackets, promotions) is `schedule`'s, pure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from hyperopt import STATUS_OK, Trials, base, space_eval, tpe

from sweep import run_keys, tasks
from sweep.config import SweepConfig
from sweep.objective import Fidelity, Objective, stalled
from sweep.parallel import run_calls
from sweep.progress import Progress
from sweep.records import TrialRecord
from sweep.schedulers import log_time_plot
from sweep.schedulers.halving import schedule
from sweep.schedulers.halving.samples import rung_samples
from sweep.search import observations
from sweep.search.observations import Observation
from sweep.search.space import SearchSpace

log = logging.getLogger(__name__)
Vals = dict[str, list[Any]]  # hyperopt's stored values of a point: label → [value] or []


@dataclass
class HalvingState:
    """What the schedule knows: each configuration's point, and the finished fits. Built empty,
    or from the children of a resumed sweep (`resume`)."""

    points: dict[int, Vals] = field(default_factory=dict)  # configuration → its TPE point
    results: dict[tuple[int, int], TrialRecord] = field(default_factory=dict)  # (config, rung)
    attempted: set[tuple[int, int]] = field(default_factory=set)  # by this process, failed too
    timeline: list[tuple[float, TrialRecord]] = field(default_factory=list)  # this process's fits


def parent_params(cfg: SweepConfig) -> dict[str, Any]:
    f = cfg.sweep.fidelity
    return {
        run_keys.SCHEDULER: "halving",
        run_keys.FIDELITY_ETA: f.eta,
        run_keys.FIDELITY_MIN_FRACTION: f.min_fraction,
    }


def search(
    cfg: SweepConfig,
    objective: Objective,
    state: HalvingState | None = None,
    progress: Progress | None = None,
) -> str:
    """Run the brackets until a budget ends them; returns why: max_evals, timeout, early_stop."""
    s, state = cfg.sweep, state or HalvingState()
    fractions = schedule.rung_fractions(s.fidelity.min_fraction, s.fidelity.eta)
    loop = _Loop(cfg, objective, state, fractions)
    total = schedule.total_fits(s.max_evals, len(fractions), s.fidelity.eta)
    bar = progress.bar if progress and s.progress_bar else None
    try:
        with (
            rung_samples(objective.data.train, fractions, s.seed) as samples,
            bar(initial=min(len(state.results), total), total=total)
            if bar
            else nullcontext() as shown,
        ):
            loop.samples, loop.bar = samples, shown
            reason = loop.run()
    except Exception:
        objective.stop.raise_if_requested()  # a signal cancelled the samples' Spark jobs: KILLED
        raise
    log_time_plot(objective, state.timeline, "halving")
    return reason


class _Loop:
    def __init__(
        self,
        cfg: SweepConfig,
        objective: Objective,
        state: HalvingState,
        fractions: Sequence[float],
    ):
        s = cfg.sweep
        self.cfg, self.objective, self.state, self.fractions = cfg, objective, state, fractions
        self.eta, self.metric = s.fidelity.eta, s.metric
        self.size = schedule.bracket_size(len(fractions), self.eta)
        self.space = objective.space.hyperopt()
        self.domain = base.Domain(lambda _: {"status": STATUS_OK, "loss": 0.0}, self.space)
        self.algo = partial(tpe.suggest, n_startup_jobs=s.n_startup_jobs)
        # A resumed sweep draws from a different stream, or it would repeat its first points.
        known = len(state.points)
        self.rstate = np.random.default_rng([s.seed, known] if known else s.seed)
        self.deadline: float | None = None
        self.started = time.monotonic()
        self.samples: list[Any] = []
        self.bar: Any = None
        self.lock = threading.Lock()

    def expired(self) -> bool:
        """Past timeout_s, once some fit finished: the first fit always runs, so that there is a
        configuration to fit on the full data (see finish_at_full_data)."""
        late = self.deadline is not None and time.monotonic() >= self.deadline
        return late and bool(self.state.results)

    def run(self) -> str:
        timeout = self.cfg.sweep.timeout_s  # counted from here: the samples are prepared
        self.started = time.monotonic()
        self.deadline = None if timeout is None else self.started + timeout
        for bracket in range(schedule.brackets(self.cfg.sweep.max_evals, self.size)):
            configs = schedule.bracket_configs(bracket, self.size, self.cfg.sweep.max_evals)
            if self.expired() or not self.bracket(list(configs)):
                self.finish_at_full_data()
                return "timeout"
            rounds = self.cfg.sweep.early_stop_rounds
            if rounds and stalled(top_losses(self.state, len(self.fractions), self.metric), rounds):
                return "early_stop"
        return "max_evals"

    def bracket(self, configs: list[int]) -> bool:
        """Ask and fit the bracket's first rung, then fit the survivors rung by rung; False if
        the time ran out before the bracket's last rung."""
        alive = list(configs)
        first = schedule.start_rung(len(configs), self.size, self.eta)
        for rung in range(first, len(self.fractions)):
            todo = [c for c in alive if (c, rung) not in self.state.results]
            todo = [c for c in todo if (c, rung) not in self.state.attempted]
            if rung == first:
                if not self.ask_and_fit(todo, rung):
                    return False
            else:
                if todo and self.expired():
                    return False
                self.fit(todo, rung)
            scores = {
                c: score(self.state.results[(c, rung)], self.metric)
                for c in alive
                if (c, rung) in self.state.results
            }
            alive = schedule.promote(scores, self.eta)
        return True

    def ask_and_fit(self, configs: list[int], rung: int) -> bool:
        """The first rung, `sweep.parallelism` configurations at a time, each batch asked from
        all results so far (this bracket's too) and fitted before the next; False on timeout."""
        step = max(1, self.cfg.sweep.parallelism)
        for start in range(0, len(configs), step):
            batch = configs[start : start + step]
            if self.expired():
                return False
            self.suggest([c for c in batch if c not in self.state.points])
            self.fit(batch, rung)
        return True

    def suggest(self, configs: list[int]) -> None:
        """TPE's points for these configurations, asked one by one from the same history."""
        if not configs:
            return
        history = tpe_history(self.state, self.metric, self.objective.space)
        for config in configs:
            docs = self.algo([config], self.domain, history, self.rstate.integers(2**31 - 1))
            self.state.points[config] = {k: list(v) for k, v in docs[0]["misc"]["vals"].items()}

    def fit(self, configs: list[int], rung: int) -> None:
        fraction = self.fractions[rung]
        calls = []
        for config in configs:
            self.state.attempted.add((config, rung))
            vals = self.state.points[config]
            point = space_eval(self.space, {k: v[0] for k, v in vals.items() if v})
            fidelity = Fidelity(rung, fraction, config, self.samples[rung])
            calls.append(partial(self.fit_one, point, fidelity))
        run_calls(calls, self.cfg.sweep.parallelism, self.objective.spark)

    def fit_one(self, point: dict[str, Any], fidelity: Fidelity) -> None:
        """One fit through the objective (its child run); its record joins the state."""
        record = self.objective(point, fidelity)
        key = (fidelity.config, fidelity.rung)
        with self.lock:
            if record.status == "ok":
                self.state.results[key] = record
            self.state.timeline.append((time.monotonic() - self.started, record))
            if self.bar is not None:
                self.bar.update(1)

    def finish_at_full_data(self) -> None:
        """When the time runs out before any fit on the full data: the best configuration of the
        highest rung reached is fitted on it, so that there is a winner to report and test."""
        top = len(self.fractions) - 1
        if (best := best_unfinished(self.state, top, self.metric)) is not None:
            self.fit([best], top)


def score(record: TrialRecord, metric: str) -> float:
    """A fit's score on its rung (higher is better): its best point's, with curves."""
    return tasks.score(metric, record.at_best(metric).metrics[metric])


def tpe_history(state: HalvingState, metric: str, space: SearchSpace) -> Trials:
    """Every configuration with a finished fit, and every point of that fit's curves, as TPE's
    Trials; each loss is a rank by the highest rung the configuration reached and the score
    there (schedule.ranked_losses)."""
    reached: dict[int, tuple[int, TrialRecord]] = {}
    for (config, rung), record in sorted(state.results.items()):
        if rung >= reached.get(config, (-1, None))[0]:
            reached[config] = (rung, record)
    points: list[tuple[dict[str, Any], int, float]] = []  # vals, rung, score
    for config, (rung, record) in sorted(reached.items()):
        seen = observations.of_record(record, space, metric)
        if not seen:  # outside the space as it is now: its TPE point as it was asked
            own = {k: v[0] for k, v in state.points[config].items() if v}
            seen = [Observation(own, tasks.loss(metric, record.metrics[metric]))]
        points += [(o.vals, rung, -o.loss) for o in seen]
    ranks = schedule.ranked_losses({i: (rung, s) for i, (_, rung, s) in enumerate(points)})
    found = [Observation(vals, ranks[i]) for i, (vals, _, _) in enumerate(points)]
    return observations.trials_of(found, space.labels())


def best_unfinished(state: HalvingState, top: int, metric: str) -> int | None:
    """The configuration to fit on the full data when none was: the best of the highest rung
    reached; None when a fit on the full data exists (or nothing finished)."""
    if any(g == top for _, g in state.results) or not state.results:
        return None
    config, rung = max(state.results, key=lambda k: (k[1], score(state.results[k], metric), -k[0]))
    log.warning(
        "Halving: the time ran out before any fit on the full training data; fitting "
        "configuration %d (best of rung %d) on it",
        config,
        rung,
    )
    return config


def top_losses(state: HalvingState, rungs: int, metric: str) -> list[float]:
    """Losses of the fits on the full data, in the order they finished."""
    done = sorted((r for (_, g), r in state.results.items() if g == rungs - 1), key=_order)
    return [-score(r, metric) for r in done]


def _order(record: TrialRecord) -> int:
    return record.number
