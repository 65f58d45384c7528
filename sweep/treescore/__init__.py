"""Score Spark decision trees and random forests without Spark: flat arrays and NumPy.

Why this exists: the Spark pyfunc flavor needs Java and its own SparkSession (~26 s before the
scoring server answers, ~190 ms a row), while a tree is a few dozen comparisons. Every logged model
carries its trees as a `trees.npz` file (written by `sweep.export`) and this module, shipped with
MLflow's `code_paths`: `mlflow.pyfunc.load_model` and `mlflow models serve` import it there as the
top-level module `treescore`. So it imports nothing of `sweep`, nothing of MLflow at import time,
and never pyspark: NumPy and pandas only.

A model fitted on a table (`data=table`, format 3) takes the user's raw columns: its file carries
the dataset spec's rules (`table.py`: fill values, category lists, date parts, the classes), and
`PyfuncModel` returns the user's labels, or numbers for a regressor.

A model fitted on categorical features (`data.features=categorical`) still takes the raw one-hot
columns: its file lists which raw columns make up each categorical feature (format 2), and `encode`
collapses them to the category index as the model's SQLTransformer does (exactly one column equal
to 1 gives its position; anything else -1, which every categorical split treats as unseen).

Predictions are Spark's, bit for bit: a continuous split sends `x <= threshold` left; a categorical
split sends the listed categories left and an unlisted value the way Spark's `CategoricalSplit`
does; a leaf's class probabilities are its class counts over their sequential sum; a forest adds
its trees' probabilities in tree order and takes the first largest (`argmax`), as Spark's
`RandomForestClassificationModel.predictRaw` does. A regression tree predicts its leaf's `value`;
a regression forest the sum of its trees' values, added in tree order, over the number of trees
(`RandomForestRegressionModel.predict`). The README ("The scorer's file") documents the
format for other languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import table

FORMAT = "sweep.treescore/1"
FORMAT_ONEHOT_GROUPS = "sweep.treescore/2"  # format 1 + onehot_columns, onehot_feature
FORMAT_TABLE = "sweep.treescore/3"  # format 1 + spec (the table's rules), values (regressors)
FORMATS = (FORMAT, FORMAT_ONEHOT_GROUPS, FORMAT_TABLE)
NOT_A_CATEGORY = -1.0  # a one-hot group without exactly one column equal to 1
TREE, FOREST = "DecisionTreeClassificationModel", "RandomForestClassificationModel"
TREE_REGRESSOR, FOREST_REGRESSOR = "DecisionTreeRegressionModel", "RandomForestRegressionModel"
REGRESSORS = (TREE_REGRESSOR, FOREST_REGRESSOR)
OUTPUTS = ("prediction", "probability")  # what `predict(..., params={"output": ...})` returns
_SMALL = 8  # up to this many rows, walking the tree in Python beats NumPy's per-call overhead


@dataclass(frozen=True)
class Trees:
    """The fitted trees as flat arrays; node `i` of every array is the same node (all trees)."""

    kind: str  # TREE, FOREST, TREE_REGRESSOR or FOREST_REGRESSOR
    columns: tuple[str, ...]  # the input columns, in feature-vector order
    num_classes: int  # Spark's numClasses: 1..7 give 8 (index 0 unused); 0 for a regressor
    roots: np.ndarray  # int32 (T,): each tree's root node
    feature: np.ndarray  # int32 (N,): the feature a node tests; -1 at a leaf
    threshold: np.ndarray  # float64 (N,): continuous split, left iff x <= it; NaN otherwise
    left: np.ndarray  # int32 (N,): left child; -1 at a leaf
    right: np.ndarray  # int32 (N,): right child; -1 at a leaf
    category_set: np.ndarray  # int32 (N,): row of `left_categories` of a categorical split, or -1
    left_categories: np.ndarray  # bool (C, K): category k of set c goes left
    num_categories: np.ndarray  # int32 (C,): the feature's number of categories
    unseen_left: np.ndarray  # bool (C,): where a value outside 0..num_categories-1 goes
    counts: np.ndarray  # float64 (N, num_classes): Spark's impurityStats, weighted class counts
    # Raw columns collapsed into one categorical feature each (format 2; none in format 1): raw
    # column onehot_columns[m] is category k of feature onehot_feature[m], k counting the earlier
    # columns of the same feature.
    onehot_columns: tuple[str, ...] = ()
    onehot_feature: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    # Format 3: the dataset spec's scorer dict as JSON (how `columns` come from the raw columns),
    # and a regressor's node predictions, float64 (N,).
    spec: str = ""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    @property
    def num_nodes(self) -> int:
        return len(self.feature)


def save(trees: Trees, path: str | Path) -> None:
    """Write `trees` as an .npz (a zip of .npy arrays; no pickled objects)."""
    check(trees)
    arrays = {k: getattr(trees, k) for k in _ARRAYS}
    if trees.onehot_columns:  # format 1 stays what readers of one-hot models know
        arrays["onehot_columns"] = np.array(trees.onehot_columns, dtype=str)
        arrays["onehot_feature"] = trees.onehot_feature.astype(np.int32)
    if trees.spec:
        arrays.update(spec=np.array(trees.spec), values=trees.values.astype(np.float64))
    np.savez_compressed(
        path,
        format=np.array(format_of(trees)),
        kind=np.array(trees.kind),
        columns=np.array(trees.columns, dtype=str),
        num_classes=np.array(trees.num_classes, dtype=np.int64),
        **arrays,
    )


def format_of(trees: Trees) -> str:
    """The format a file of these trees has: 3 for a table's, 2 where one-hot groups need it."""
    if trees.spec:
        return FORMAT_TABLE
    return FORMAT_ONEHOT_GROUPS if trees.onehot_columns else FORMAT


def load(path: str | Path) -> Trees:
    with np.load(path, allow_pickle=False) as f:
        if "format" not in f.files or str(f["format"]) not in FORMATS:
            found = str(f["format"]) if "format" in f.files else "no format entry"
            raise ValueError(f"{path}: not a {' or '.join(FORMATS)} file ({found})")
        groups = {}
        if str(f["format"]) == FORMAT_ONEHOT_GROUPS:
            groups = {
                "onehot_columns": tuple(str(c) for c in f["onehot_columns"]),
                "onehot_feature": f["onehot_feature"],
            }
        if str(f["format"]) == FORMAT_TABLE:
            groups = {"spec": str(f["spec"]), "values": f["values"]}
        trees = Trees(
            kind=str(f["kind"]),
            columns=tuple(str(c) for c in f["columns"]),
            num_classes=int(f["num_classes"]),
            **{k: f[k] for k in _ARRAYS},
            **groups,
        )
    check(trees)
    return trees


_ARRAYS = (
    "roots", "feature", "threshold", "left", "right", "category_set", "left_categories",
    "num_categories", "unseen_left", "counts",
)  # fmt: skip


def check(trees: Trees) -> None:
    """Refuse arrays that would index out of range or loop, instead of scoring garbage."""
    n, c = trees.num_nodes, len(trees.num_categories)
    problems = []
    if trees.kind not in (TREE, FOREST, *REGRESSORS):
        problems.append(f"unknown kind {trees.kind!r}")
    if trees.kind in (TREE, TREE_REGRESSOR) and len(trees.roots) != 1:
        problems.append(f"a {trees.kind} has {len(trees.roots)} roots")
    if trees.kind in REGRESSORS and (trees.values.shape != (n,) or not trees.spec):
        problems.append(f"a regressor needs values of shape ({n},) and a spec")
    if trees.spec:
        problems.extend(table.problems(trees.spec, len(trees.columns)))
    for name in ("threshold", "left", "right", "category_set"):
        if getattr(trees, name).shape != (n,):
            problems.append(f"{name} has shape {getattr(trees, name).shape}, expected ({n},)")
    if trees.counts.shape != (n, trees.num_classes):
        problems.append(f"counts has shape {trees.counts.shape}")
    if trees.left_categories.shape[0] != c or trees.unseen_left.shape != (c,):
        problems.append("left_categories, num_categories and unseen_left disagree")
    internal = trees.left >= 0
    if ((trees.left >= n) | (trees.right >= n) | ((trees.right >= 0) != internal)).any():
        problems.append("a child index is out of range or a node has one child")
    after = (trees.left > np.arange(n)) & (trees.right > np.arange(n))
    if (internal & ~after).any():
        problems.append("children must come after their parent (no cycles)")
    if (internal & (trees.feature < 0)).any() or (trees.feature >= len(trees.columns)).any():
        problems.append("a feature index is out of range")
    if ((trees.category_set >= c) | (trees.category_set < -1)).any():
        problems.append("a category_set index is out of range")
    groups = trees.onehot_feature
    if groups.shape != (len(trees.onehot_columns),) or (
        len(groups) and (groups.min() < 0 or groups.max() >= len(trees.columns))
    ):
        problems.append("onehot_feature does not name a feature for each of onehot_columns")
    if problems:
        raise ValueError("invalid trees: " + "; ".join(problems))


class Scorer:
    """Trees compiled for scoring: leaves loop onto themselves so that every row can take the
    same number of steps (vectorised); small requests walk the tree in plain Python."""

    def __init__(self, trees: Trees):
        self.trees = trees
        n = trees.num_nodes
        leaf = trees.left < 0
        nodes = np.arange(n, dtype=np.int64)
        self._feature = np.where(leaf, 0, trees.feature).astype(np.int64)
        self._threshold = np.where(leaf, np.inf, trees.threshold)
        self._left = np.where(leaf, nodes, trees.left).astype(np.int64)
        self._right = np.where(leaf, nodes, trees.right).astype(np.int64)
        self._categorical = trees.category_set >= 0
        self._depths = [_depth(trees.left, trees.right, int(r)) for r in trees.roots]
        # Spark divides each class count by the counts' sum, summed left to right (cumsum is
        # sequential; numpy's sum is pairwise and can differ in the last bit).
        self.node_proba = normalise(trees.counts)
        # A tree's prediction is the first largest count (Spark's raw2prediction on the counts);
        # a regression tree's is its node's value.
        self.node_value = (
            trees.values if trees.kind in REGRESSORS else trees.counts.argmax(axis=1).astype(float)
        )
        self._py = (  # plain lists: indexing them is ~10x faster than indexing arrays
            trees.feature.tolist(), trees.threshold.tolist(), trees.left.tolist(),
            trees.right.tolist(), trees.category_set.tolist(),
        )  # fmt: skip

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """(T, n) the leaf each row reaches in each tree; `x` is (n, features) float64."""
        out = np.empty((len(self.trees.roots), len(x)), dtype=np.int64)
        for t in range(len(self.trees.roots)):
            for node in self._steps(x, t):
                out[t] = node
        return out

    def path(self, x: np.ndarray, tree: int = 0) -> np.ndarray:
        """(depth + 1, n) the node each row is at after 0, 1, ... depth steps down tree `tree`
        (a row stays on the leaf it reached): row d is where the tree cut at depth d ends."""
        return np.stack(list(self._steps(x, tree)))

    def _steps(self, x: np.ndarray, tree: int) -> Iterator[np.ndarray]:
        rows = np.arange(len(x))
        flat, width = x.ravel(), x.shape[1]
        node = np.full(len(x), self.trees.roots[tree], dtype=np.int64)
        yield node
        for _ in range(self._depths[tree]):
            value = flat[rows * width + self._feature[node]]
            go_left = value <= self._threshold[node]
            categorical = self._categorical[node]
            if categorical.any():
                go_left[categorical] = self._categorical_left(
                    self.trees.category_set[node[categorical]], value[categorical]
                )
            node = np.where(go_left, self._left[node], self._right[node])
            yield node

    def _categorical_left(self, sets: np.ndarray, value: np.ndarray) -> np.ndarray:
        t = self.trees
        known = (value >= 0) & (value < t.num_categories[sets]) & (value == np.floor(value))
        index = np.where(known, value, 0).astype(np.int64)
        return np.where(known, t.left_categories[sets, index], t.unseen_left[sets])

    def _walk(self, row: list[float], root: int) -> int:
        feature, threshold, left, right, category_set = self._py
        node = root
        while left[node] >= 0:
            value = row[feature[node]]
            c = category_set[node]
            if c < 0:
                go_left = value <= threshold[node]
            else:
                t = self.trees
                known = 0 <= value < t.num_categories[c] and value == int(value)
                go_left = t.left_categories[c, int(value)] if known else t.unseen_left[c]
            node = left[node] if go_left else right[node]
        return node

    def _leaf_table(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= _SMALL:
            rows = x.tolist()
            return np.array([[self._walk(r, int(root)) for r in rows] for root in self.trees.roots])
        return self.leaves(x)

    def votes(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) the sum of the trees' leaf probabilities, added in tree order."""
        return _tree_sum(self.node_proba, self._leaf_table(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n,) float64, as Spark's `prediction` column: class indices, or a regressor's values."""
        leaves = self._leaf_table(x)
        if self.trees.kind in (TREE, TREE_REGRESSOR):
            return self.node_value[leaves[0]]
        if self.trees.kind == FOREST_REGRESSOR:
            return _tree_sum(self.trees.values, leaves) / len(leaves)
        return _tree_sum(self.node_proba, leaves).argmax(axis=1).astype(np.float64)

    def predict_proba(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels (n,), probabilities (n, num_classes)) as Spark's `prediction` and
        `probability` columns (probability index = label), from one pass over the trees."""
        if self.trees.kind in REGRESSORS:
            raise ValueError("a regressor has no class probabilities")
        leaves = self._leaf_table(x)
        if self.trees.kind == TREE:
            return self.node_value[leaves[0]], self.node_proba[leaves[0]]
        votes = _tree_sum(self.node_proba, leaves)
        return votes.argmax(axis=1).astype(np.float64), normalise(votes)


def _tree_sum(per_node: np.ndarray, leaves: np.ndarray) -> np.ndarray:
    """The trees' leaf values summed in tree order, one addition at a time (Spark's loop)."""
    total = per_node[leaves[0]]
    for more in leaves[1:]:
        total = total + per_node[more]
    return total


def normalise(counts: np.ndarray) -> np.ndarray:
    """Each row over its sum, the sum taken left to right as Spark does (numpy's `sum` is
    pairwise and can differ in the last bit; `cumsum` is sequential). A zero row stays zero."""
    totals = np.cumsum(counts, axis=1)[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals != 0, counts / totals, 0.0)


def _depth(left: np.ndarray, right: np.ndarray, root: int) -> int:
    """The number of splits on the longest path from `root` to a leaf."""
    level, depth = np.array([root]), 0
    while True:
        level = level[left[level] >= 0]
        if not len(level):
            return depth
        level = np.concatenate([left[level], right[level]])
        depth += 1


def features(columns: tuple[str, ...], data: Any) -> np.ndarray:
    """(n, features) float64 from a DataFrame (columns taken by name, extra ones ignored) or an
    array already in feature order. Missing or null values are an error, as in Spark's
    VectorAssembler (handleInvalid=error)."""
    if isinstance(data, pd.DataFrame):
        table.require(columns, data)
        frame = data if list(data.columns) == list(columns) else data[list(columns)]
        try:
            x = frame.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the input columns must be numbers: {exc}") from exc
    else:
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(columns):
            raise ValueError(f"expected an array of shape (n, {len(columns)}), got {x.shape}")
    if np.isnan(x).any():
        raise ValueError("the input holds null or NaN values; every column needs a number")
    return x


def inputs(trees: Trees) -> tuple[str, ...]:
    """The raw columns a row to score carries: a table's own (format 3); else `columns`, each
    categorical feature made of one-hot columns replaced by them (Covtype's 54 for either)."""
    if trees.spec:
        return table.parse(trees.spec).inputs
    made_of: dict[int, list[str]] = {}
    for column, j in zip(trees.onehot_columns, trees.onehot_feature.tolist(), strict=True):
        made_of.setdefault(j, []).append(column)
    return tuple(c for j, name in enumerate(trees.columns) for c in made_of.get(j, [name]))


def encode(trees: Trees, data: Any) -> np.ndarray:
    """(n, features) float64 from the raw columns (`inputs`: a DataFrame by name, or an array in
    that order): plain columns as they are, each one-hot group as its category index, as the
    model's SQLTransformer computes it. Format 3: a table's raw columns, by its spec's rules."""
    if trees.spec:
        return table.encode(table.parse(trees.spec), data)
    raw_columns = inputs(trees)
    raw = features(raw_columns, data)
    if not trees.onehot_columns:
        return raw
    position = {c: i for i, c in enumerate(raw_columns)}
    out = np.empty((len(raw), len(trees.columns)), dtype=np.float64)
    for j, name in enumerate(trees.columns):
        members = [
            c for c, f in zip(trees.onehot_columns, trees.onehot_feature, strict=True) if f == j
        ]
        if not members:
            out[:, j] = raw[:, position[name]]
            continue
        group = raw[:, [position[c] for c in members]]
        one = group == 1
        exactly_one = ((group != 0).sum(axis=1) == 1) & one.any(axis=1)
        out[:, j] = np.where(exactly_one, one.argmax(axis=1), NOT_A_CATEGORY)
    return out


class PyfuncModel:
    """What `mlflow.pyfunc.load_model` wraps: `predict(df)` gives labels, as the Spark flavor (a
    table's model: the user's labels, or numbers for a regressor); `predict(df, params={"output":
    "probability"})` a frame of `prediction` and `probability` (index = class index)."""

    def __init__(self, trees: Trees):
        self.scorer = Scorer(trees)
        self.table = table.parse(trees.spec) if trees.spec else None

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        output = (params or {}).get("output", "prediction")
        regressor = self.scorer.trees.kind in REGRESSORS
        if output not in OUTPUTS or (output != "prediction" and regressor):
            allowed = ["prediction"] if regressor else list(OUTPUTS)
            raise _bad_parameter(f"params.output must be one of {allowed}, not {output!r}")
        if self.table is None:
            x, decode = encode(self.scorer.trees, model_input), (lambda index: index)
        else:
            x, decode = table.encode(self.table, model_input), partial(table.labels, self.table)
        if output == "prediction":
            return decode(self.scorer.predict(x))
        labels, probability = self.scorer.predict_proba(x)
        return pd.DataFrame({"prediction": decode(labels), "probability": probability.tolist()})


def _bad_parameter(message: str) -> Exception:
    """MLflow's exception (a 400 from the scoring server) when MLflow is there; else ValueError."""
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
    except ImportError:
        return ValueError(message)
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _load_pyfunc(path: str) -> PyfuncModel:
    """MLflow's loader hook: `path` is the model's `trees.npz`."""
    return PyfuncModel(load(path))
