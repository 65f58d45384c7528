"""Owns "the best sits on a bound": when the winner's value of a searched range is its top or
bottom, the search may have stopped short. Whose bound it is decides the advice: the user's range
(widen it, with the key to set) or Spark's own limit (maxDepth ≤ 30: something else must help).
Pure: records and the space in, notes out (the summary, the parent's description and its tag
`sweep.on_bound` say them).
"""

from __future__ import annotations

from dataclasses import dataclass

from sweep.models import family
from sweep.params import pinned
from sweep.records import TrialRecord
from sweep.search.space import SearchSpace

TOP, BOTTOM = "top", "bottom"


@dataclass(frozen=True)
class Bound:
    param: str  # Spark's name
    key: str  # the config key of the range, e.g. search.max_depth.high
    side: str  # TOP or BOTTOM
    value: float
    limit: float | None  # Spark's own limit on that side (maxDepth: 30 at the top), if any

    @property
    def spark_limit(self) -> bool:
        """Whether the range ends where Spark's own limit is: it cannot be widened."""
        return self.limit is not None and abs(self.value - self.limit) < 1e-9

    def note(self) -> str:
        where = f"the {self.side} of its searched range ({self.key}={_shown(self.value)})"
        if self.spark_limit and self.side == TOP:
            return (
                f"best {self.param}={_shown(self.value)} sits at {where}, which is Spark's own "
                f"limit: a larger value is not possible. What may still help: a forest "
                f"(model=forest, or model=auto to search both), more bins (search.max_bins.high), "
                f"or other parameters (e.g. +search.min_instances_per_node)"
            )
        if self.spark_limit:
            return f"best {self.param}={_shown(self.value)} sits at {where}, Spark's smallest"
        return (
            f"best {self.param}={_shown(self.value)} sits at {where}: the best may lie beyond "
            f"it; widen it, e.g. {self.key}={_shown(self.widened())}"
        )

    def tag(self) -> str:
        owner = "Spark's limit" if self.spark_limit else "searched range"
        return f"{self.param}={_shown(self.value)} ({self.side}, {owner})"

    def widened(self) -> float:
        """A wider end for the user's range: twice as far (halved at the bottom), within
        Spark's limit."""
        if self.side == TOP:
            return self.value * 2 if self.limit is None else min(self.value * 2, self.limit)
        wider = self.value / 2
        return wider if self.limit is None else max(wider, self.limit)


def on_bounds(best: TrialRecord, space: SearchSpace) -> list[Bound]:
    """The winner's (at its best point) numeric params that sit on an end of their range."""
    entries, table = space.branches.get(best.family, {}), family(best.family).PARAMS
    found = []
    for name, spec in entries.items():
        if spec.type == "choice" or pinned(spec) or name not in table:
            continue
        param = table[name]
        value = best.params.get(param.spark_name)
        if value is None:
            continue
        for side, end, limit in ((TOP, spec.high, param.high), (BOTTOM, spec.low, param.low)):
            if _same(value, end, spec.type):
                key = f"search.{space.label(best.family, name)}.{'high' if side == TOP else 'low'}"
                found.append(Bound(param.spark_name, key, side, end, limit))
    return found


def _same(value: float, end: float, kind: str) -> bool:
    return (
        round(value) == round(end)
        if kind == "int"
        else abs(value - end) <= 1e-9 * max(1.0, abs(end))
    )


def _shown(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
