"""Owns the tasks a sweep can learn and the direction of every metric. Each task is one module of
this package with:

- `NAME` (what `data.task=<NAME>` selects) and `DEFAULT_METRIC` (`sweep.metric` when not given);
- `METRICS`: what every trial reports on the validation split (and the winner on the test split);
- `IMPURITIES`: the impurities its trees accept (`search.impurity`);
- `ESTIMATORS`: model family → the Spark estimator class that fits it;
- `evaluate(model, data, spec, details=False)`: an `Evaluation` of a fitted model on a split;
- `metrics_of_arrays(label, prediction, p_true)`: the same metrics from NumPy arrays (curves).

Whether a metric is better higher or lower is said here once (`LOWER_IS_BETTER`); TPE's loss, the
best-so-far value, early stop, halving promotion, the winner and the registry's `if_better` all ask
`loss` or `better`, so none of them assumes "higher is better".
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import TypeVar

from sweep.records import Confusion

LOWER_IS_BETTER = frozenset({"rmse", "mae", "logLoss"})
T = TypeVar("T")


@dataclass
class Evaluation:
    """A fitted model on one split: its metrics, and with `details` what the plots draw."""

    metrics: dict[str, float]
    confusion: Confusion | None = None  # classification: (true, predicted) index → count
    # regression: a sample of (actual, predicted) pairs, for the predicted-vs-actual plot
    pairs: list[tuple[float, float]] = field(default_factory=list)


@cache
def tasks() -> dict[str, ModuleType]:
    """Every task module of this package, by its NAME."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.NAME] = module
    return found


def task(name: str) -> ModuleType:
    return tasks()[name]


def all_metrics() -> list[str]:
    """Every metric any task reports (what `sweep.metric` may name), in first-seen order."""
    return list(dict.fromkeys(m for t in tasks().values() for m in t.METRICS))


def lower_is_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER


def loss(metric: str, value: float) -> float:
    """What TPE minimises for `metric`: the value itself, or its negation for a score."""
    return value if lower_is_better(metric) else -value


def score(metric: str, value: float) -> float:
    """`value` oriented so that higher is better (the negated loss): what a ranking sorts by."""
    return -loss(metric, value)


def better(metric: str, new: float, old: float | None) -> bool:
    """Whether `new` strictly improves on `old` (None: nothing to beat)."""
    return old is None or loss(metric, new) < loss(metric, old)


def at_least_as_good(metric: str, new: float, old: float) -> bool:
    return loss(metric, new) <= loss(metric, old)


def best_of(items: Iterable[T], metric: str, value: Callable[[T], float]) -> T | None:
    """The item with the best value of `metric` (the first of equals), or None."""
    return min(items, key=lambda item: loss(metric, value(item)), default=None)


def best_value(values: Iterable[float], metric: str) -> float | None:
    return best_of(values, metric, lambda v: v)


def direction(metric: str) -> str:
    """`lower` or `higher`: said in the summary and on the parent run."""
    return "lower" if lower_is_better(metric) else "higher"
