"""Owns what TPE learns from: observations (a point of the search space and its loss) and the one
builder of hyperopt's `Trials` from them.

Every source feeds the same list: this sweep's trials, a resumed sweep's children
(`sweep.search.resume`), a warm start's prior (`sweep.search.warm_start`), the halving rungs'
ranks (`sweep.schedulers.halving`), and every point of a trial's validation curves (`sweep.curves`:
a tree cut at depth d is an observation of maxDepth=d at the fit's other params).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hyperopt import JOB_STATE_DONE, STATUS_OK, Trials

from sweep import tasks
from sweep.models import family
from sweep.records import TrialRecord
from sweep.search.space import SearchSpace

TRIAL, CURVE, PRIOR = "trial", "curve", "prior"  # where an observation comes from


@dataclass(frozen=True)
class Observation:
    vals: dict[str, Any]  # hyperopt's value of each label of the branch taken (a choice: index)
    loss: float  # what TPE minimises (sweep.tasks.loss)
    source: str = TRIAL  # TRIAL, CURVE (a point of a trial's curve) or PRIOR (a warm start's)


def of_record(
    record: TrialRecord, space: SearchSpace, metric: str, source: str = TRIAL
) -> list[Observation]:
    """A finished trial's observations: its own point, then each point of its curves (a curve
    point of a warm start's prior stays PRIOR); none when it lies outside `space`."""
    table = family(record.family).PARAMS
    found = []
    own = space.vals(record.family, record.params, table, record.features)
    if own is not None and metric in record.metrics:
        found.append(Observation(own, tasks.loss(metric, record.metrics[metric]), source))
    for param, points in record.curves.items():
        for value, metrics in sorted(points.items()):
            if value == record.params.get(param) or metric not in metrics:
                continue  # the fit itself: its own point above
            vals = space.vals(
                record.family, {**record.params, param: value}, table, record.features
            )
            if vals is not None:
                loss = tasks.loss(metric, metrics[metric])
                found.append(Observation(vals, loss, CURVE if source == TRIAL else source))
    return found


def of_records(
    records: Iterable[TrialRecord], space: SearchSpace, metric: str, source: str = TRIAL
) -> list[Observation]:
    return [o for r in records for o in of_record(r, space, metric, source)]


def trials_of(observations: list[Observation], labels: list[str]) -> Trials:
    """A Trials holding the observations as finished trials, in order (tid = position), as if
    this process had run them: every doc names every label of the space, those of a branch it
    did not take with no value. The result carries the observation's source."""
    trials = Trials()
    if not observations:
        return trials
    tids = trials.new_trial_ids(len(observations))  # reserved first, or ids repeat
    docs = trials.new_trial_docs(
        tids,
        [None] * len(tids),
        [{"status": STATUS_OK, "loss": o.loss, "source": o.source} for o in observations],
        [
            {
                "tid": tid,
                "cmd": ("domain_attachment", "FMinIter_Domain"),
                "workdir": None,
                "idxs": {k: [tid] if k in o.vals else [] for k in labels},
                "vals": {k: [o.vals[k]] if k in o.vals else [] for k in labels},
            }
            for tid, o in zip(tids, observations, strict=True)
        ],
    )
    for doc in docs:
        doc["state"] = JOB_STATE_DONE
    trials.insert_trial_docs(docs)
    trials.refresh()
    return trials
