"""Owns validation curves (`sweep.curves`): a fitted tree model scored on the validation split at
every depth it can be cut to, and a forest with only its first t trees, in NumPy from the model's
node arrays (`sweep.export`, `treescore`). No MLflow; Spark only to save the fitted model and to
collect the validation split once.

Why a cut is exact: Spark grows a tree level by level and `maxDepth` only stops the growth; every
node carries the statistics it would have as a leaf. A tree fitted at depth d therefore equals the
deeper tree cut at d, once Spark's pruning is applied to the cut as to a fresh fit (two sibling
leaves with the same prediction merge into their parent, recursively: `LearningNode.toNode`). The
cut here replays that pruning, so predictions and probabilities are those of the depth-d fit
(`tests/test_curves.py` fits both and compares them row by row). A forest of T trees cut at depth
d is every tree cut. A forest's first t trees are a real t-tree forest but not the one `numTrees=t`
would fit (Spark draws every tree's bootstrap at once): its points are observations, not exact.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sweep import tasks
from sweep.config import ParamSpec
from sweep.export import from_saved_model
from sweep.params import Table
from sweep.treescore import FOREST, FOREST_REGRESSOR, REGRESSORS, Scorer, Trees, normalise

log = logging.getLogger(__name__)
DEPTH, TREES = "maxDepth", "numTrees"  # the Spark params a curve walks
SUFFIX = {DEPTH: "_by_depth", TREES: "_by_trees"}  # <metric><suffix>: the child's stepped metric
BEST_AT = {DEPTH: "best_depth", TREES: "best_num_trees"}  # the child's metric: its best point

Curves = dict[str, dict[int, dict[str, float]]]  # Spark param → its value → metrics there


@dataclass(frozen=True)
class Validation:
    """The validation split as arrays: features (n, f) float64 and labels (n,)."""

    x: np.ndarray
    y: np.ndarray


def validation_arrays(frame: Any, features: str, label: str) -> Validation:
    """Collect a split's feature vectors and labels once (a sweep keeps them per encoding)."""
    from pyspark.ml.functions import vector_to_array

    rows = frame.select(vector_to_array(features).alias("x"), label).toPandas()
    x = np.array(rows["x"].tolist(), dtype=np.float64).reshape(len(rows), -1)
    return Validation(x, rows[label].to_numpy(dtype=np.float64))


def model_trees(fitted: Any) -> Trees:
    """The fitted Spark tree model's node arrays, through a temporary save (a vectorised read)."""
    with tempfile.TemporaryDirectory(prefix="sweep-curve-") as folder:
        path = Path(folder) / "model"
        fitted.write().save(str(path))
        return from_saved_model(path)


def curves(
    trees: Trees,
    data: Validation,
    task: str,
    depths: Sequence[int] = (),
    tree_counts: Sequence[int] = (),
) -> Curves:
    """The task's metrics (`metrics_of_arrays`) at each depth cut in `depths` (every tree cut) and
    with each first-t trees of `tree_counts` (a forest's, uncut)."""
    scorer = Scorer(trees)
    score = tasks.task(task).metrics_of_arrays
    found: Curves = {}
    if depths:
        cuts = [_Cuts(trees, scorer, data.x, t) for t in range(len(trees.roots))]
        found[DEPTH] = {d: score(data.y, *_predict(trees, scorer, cuts, d, data.y)) for d in depths}
    if tree_counts and trees.kind in (FOREST, FOREST_REGRESSOR):
        found[TREES] = _tree_prefixes(trees, scorer, data, tree_counts, score)
    return found


def fitted_params(
    params: dict[str, Any], entries: Mapping[str, ParamSpec], table: Table, walked: Sequence[str]
) -> dict[str, Any]:
    """`sweep.curves.fit=top`: the depth at the top of its range, so one fit holds every smaller
    depth; the rest as TPE proposed them. A forest's tree count stays TPE's: its cost grows with
    every tree, and its first t trees are observations for every smaller count anyway."""
    fitted = dict(params)
    for name, spec in entries.items():
        if DEPTH in walked and name in table and table[name].spark_name == DEPTH:
            fitted[DEPTH] = int(spec.high)
    return fitted


def ranges(
    params: Mapping[str, Any], entries: Mapping[str, ParamSpec], table: Table, walked: Sequence[str]
) -> dict[str, range]:
    """What to score a fit at: from the bottom of each walked param's searched range up to the
    fitted value (`depths`, `tree_counts`); a param the search does not range over: nothing."""
    found = {}
    for name, spec in entries.items():
        spark = table[name].spark_name if name in table else None
        if spark in walked and spec.type == "int" and spark in params:
            low = min(int(spec.low), int(params[spark]))
            found["depths" if spark == DEPTH else "tree_counts"] = range(
                low, int(params[spark]) + 1
            )
    return found


def best_point(points: dict[int, dict[str, float]], metric: str) -> int | None:
    """The value whose metric is best (the smallest of equals: the cheaper model)."""
    scored = [v for v in sorted(points) if metric in points[v]]
    return tasks.best_of(scored, metric, lambda v: points[v][metric])


class _Cuts:
    """One tree's rows' paths and its nodes by level: where each row stops when it is cut."""

    def __init__(self, trees: Trees, scorer: Scorer, x: np.ndarray, tree: int):
        self.path = scorer.path(x, tree)  # (depth + 1, n)
        self.by_level = [np.array([trees.roots[tree]], dtype=np.int64)]
        while True:
            above = self.by_level[-1]
            above = above[trees.left[above] >= 0]
            if not len(above):
                break
            self.by_level.append(np.concatenate([trees.left[above], trees.right[above]]))

    def stops(self, trees: Trees, value: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(n,) the node each row ends on in this tree cut at `depth`, and every node's value as
        a leaf of the cut, Spark's pruning replayed: a node whose two children are leaves of the
        cut with the same prediction is a leaf predicting it."""
        leaf = trees.left < 0
        if depth < len(self.by_level):
            leaf = leaf.copy()
            leaf[self.by_level[depth]] = True
        merged = value.copy()
        for at in reversed(self.by_level[:depth]):
            at = at[~leaf[at]]
            left, right = trees.left[at], trees.right[at]
            merge = leaf[left] & leaf[right] & (merged[left] == merged[right])
            leaf[at] = merge
            merged[at] = np.where(merge, merged[left], merged[at])
        steps = self.path[: depth + 1]
        first = leaf[steps].argmax(axis=0)  # the cut's first leaf on each row's path
        return steps[first, np.arange(steps.shape[1])], merged


def _predict(
    trees: Trees, scorer: Scorer, cuts: list[_Cuts], depth: int, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """(predictions, each row's probability of its true label) of the model cut at `depth`."""
    stops = [c.stops(trees, scorer.node_value, depth) for c in cuts]
    if trees.kind in REGRESSORS:  # a merged leaf predicts its children's value
        total = stops[0][1][stops[0][0]]
        for nodes, merged in stops[1:]:
            total = total + merged[nodes]
        return (total if len(stops) == 1 else total / len(stops)), None
    # a merged leaf keeps its own counts (Spark: the parent's statistics); its first largest
    # count is its children's common prediction
    votes = scorer.node_proba[stops[0][0]]
    for nodes, _ in stops[1:]:
        votes = votes + scorer.node_proba[nodes]
    if len(stops) == 1:
        return scorer.node_value[stops[0][0]], votes[np.arange(len(y)), y.astype(np.int64)]
    return _from_votes(votes, y)


def _from_votes(votes: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probability = normalise(votes)
    return votes.argmax(axis=1).astype(np.float64), probability[np.arange(len(y)), y.astype(int)]


def _tree_prefixes(
    trees: Trees, scorer: Scorer, data: Validation, counts: Sequence[int], score: Any
) -> dict[int, dict[str, float]]:
    """The metrics of the forest's first t trees, for each t of `counts`: Spark's sum in tree
    order (classification: the trees' normalised leaf counts; regression: values over t)."""
    leaves = scorer.leaves(data.x)
    wanted, found = set(counts), {}
    table = scorer.node_value if trees.kind in REGRESSORS else scorer.node_proba
    total = np.zeros_like(table[leaves[0]])
    for t, tree_leaves in enumerate(leaves, start=1):
        total = total + table[tree_leaves]
        if t in wanted:
            if trees.kind in REGRESSORS:
                found[t] = score(data.y, total / t, None)
            else:
                found[t] = score(data.y, *_from_votes(total, data.y))
    return found
