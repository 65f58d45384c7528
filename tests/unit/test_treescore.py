"""The JVM-free scorer on hand-built trees: split rules, forests, the file, the pyfunc wrapper.

Agreement with Spark itself, on real fitted models, is tests/test_export.py's job.
"""

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sweep import treescore
from sweep.treescore import FOREST, TREE, PyfuncModel, Scorer, Trees, features

COLUMNS = ("a", "b")


def make(kind=TREE, roots=(0,), feature=(), threshold=(), left=(), right=(), counts=(), cats=()):
    """Trees from short lists; `cats` is [(node, num_categories, left categories)]."""
    n = len(feature)
    category_set = np.full(n, -1, dtype=np.int32)
    width = max([k for _, k, _ in cats], default=0)
    mask = np.zeros((len(cats), width), dtype=bool)
    for row, (node, _, lefts) in enumerate(cats):
        category_set[node] = row
        mask[row, list(lefts)] = True
    sizes = np.array([len(lefts) for _, _, lefts in cats], dtype=np.int64)
    num = np.array([k for _, k, _ in cats], dtype=np.int32)
    return Trees(
        kind=kind,
        columns=COLUMNS,
        num_classes=3,
        roots=np.array(roots, dtype=np.int32),
        feature=np.array(feature, dtype=np.int32),
        threshold=np.array(threshold, dtype=np.float64),
        left=np.array(left, dtype=np.int32),
        right=np.array(right, dtype=np.int32),
        category_set=category_set,
        left_categories=mask,
        num_categories=num,
        unseen_left=~(sizes <= num // 2),
        counts=np.array(counts, dtype=np.float64),
    )


# x <= 2.5 → class 1 (counts 0, 3, 1); else class 2 (0, 1, 4)
STUMP = make(
    feature=[0, -1, -1],
    threshold=[2.5, np.nan, np.nan],
    left=[1, -1, -1],
    right=[2, -1, -1],
    counts=[[0, 4, 5], [0, 3, 1], [0, 1, 4]],
)


def categorical(lefts, num=4):
    """Feature b categorical with `num` categories; `lefts` go to class 1, the rest to class 2."""
    return make(
        feature=[1, -1, -1],
        threshold=[np.nan, np.nan, np.nan],
        left=[1, -1, -1],
        right=[2, -1, -1],
        counts=[[0, 1, 1], [0, 1, 0], [0, 0, 1]],
        cats=[(0, num, lefts)],
    )


def score_both_ways(trees, x):
    """The small-request path (a Python walk) and the vectorised path must agree."""
    scorer, x = Scorer(trees), np.asarray(x, dtype=np.float64)
    small = scorer.predict(x)
    many = scorer.predict(np.repeat(x, 10, axis=0))[::10]
    assert small.tolist() == many.tolist()
    return small.tolist()


@pytest.mark.parametrize(
    ("value", "label"),
    [(2.0, 1.0), (2.5, 1.0), (2.5000001, 2.0), (-1e9, 1.0), (7.0, 2.0)],
    ids=["below", "equal goes left", "just above", "far below", "above"],
)
def test_a_threshold_split_sends_x_at_most_the_threshold_left(value, label):
    assert score_both_ways(STUMP, [[value, 0.0]]) == [label]


@pytest.mark.parametrize(
    ("lefts", "value", "label"),
    [
        ({1}, 1.0, 1.0),
        ({1}, 0.0, 2.0),
        ({1}, 9.0, 2.0),  # 1 left of 4 <= 4 // 2: Spark keeps the left set; unseen goes right
        ({1}, 1.5, 2.0),
        ({1}, -1.0, 2.0),
        ({0, 1, 2}, 3.0, 2.0),
        ({0, 1, 2}, 2.0, 1.0),
        ({0, 1, 2}, 9.0, 1.0),  # 3 left of 4 > 4 // 2: Spark keeps the right set; unseen goes left
        ({0, 1, 2}, 0.5, 1.0),
        ({0, 1}, 7.0, 2.0),  # 2 of 4: exactly half counts as the left set
    ],
)
def test_a_categorical_split_matches_sparks_rule_for_known_and_unseen_values(lefts, value, label):
    assert score_both_ways(categorical(lefts), [[0.0, value]]) == [label]


def test_an_odd_number_of_categories_uses_integer_division_like_spark():
    # 5 categories, 2 left: 2 <= 5 // 2 = 2, so the left set is kept and unseen goes right.
    assert score_both_ways(categorical({0, 1}, num=5), [[0.0, 9.0]]) == [2.0]
    # 3 left of 5: 3 > 2, the right set is kept and unseen goes left.
    assert score_both_ways(categorical({0, 1, 2}, num=5), [[0.0, 9.0]]) == [1.0]


def forest(first_leaf_counts):
    """Two stumps on feature a; the first tree's left leaf has `first_leaf_counts`."""
    return make(
        kind=FOREST,
        roots=(0, 3),
        feature=[0, -1, -1, 0, -1, -1],
        threshold=[0.0, np.nan, np.nan, 0.0, np.nan, np.nan],
        left=[1, -1, -1, 4, -1, -1],
        right=[2, -1, -1, 5, -1, -1],
        counts=[[0, 1, 1], first_leaf_counts, [0, 0, 2], [0, 1, 1], [0, 1, 3], [0, 2, 0]],
    )


def test_a_forest_averages_normalised_leaf_probabilities_not_counts():
    # Tree 1 says class 1 with 6 rows of 10 (0.6, 0.4); tree 2 class 2 with 3 of 4 (0.25, 0.75).
    # Votes 0.85 vs 1.15: class 2, where summed counts (6 + 1 vs 4 + 3) would tie (class 1).
    trees = forest([0, 6, 4])
    assert score_both_ways(trees, [[-1.0, 0.0]]) == [2.0]
    labels, proba = Scorer(trees).predict_proba(np.array([[-1.0, 0.0]]))
    np.testing.assert_allclose(proba, [[0.0, 0.425, 0.575]])
    assert labels.tolist() == [2.0]


def test_a_tie_goes_to_the_first_class_as_sparks_argmax():
    # Tree 1 (0.75, 0.25) + tree 2 (0.25, 0.75): 1.0 each; Spark's argmax takes class 1.
    assert score_both_ways(forest([0, 3, 1]), [[-1.0, 0.0]]) == [1.0]


def test_probabilities_are_counts_over_their_sum():
    labels, proba = Scorer(STUMP).predict_proba(np.array([[0.0, 0.0], [9.0, 0.0]]))
    assert labels.tolist() == [1.0, 2.0]
    assert proba.tolist() == [[0.0, 0.75, 0.25], [0.0, 0.2, 0.8]]


def test_the_file_round_trips_and_refuses_other_files(tmp_path):
    path = tmp_path / "trees.npz"
    treescore.save(categorical({0, 1, 2}), path)
    loaded = treescore.load(path)
    assert loaded.columns == COLUMNS and loaded.kind == TREE
    assert score_both_ways(loaded, [[0.0, 9.0], [0.0, 3.0]]) == [1.0, 2.0]
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a sweep.treescore/1 or .*/2 or .*/3 file"):
        treescore.load(tmp_path / "other.npz")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"left": np.array([0, -1, -1], dtype=np.int32)}, "after their parent"),
        ({"right": np.array([7, -1, -1], dtype=np.int32)}, "out of range"),
        ({"feature": np.array([2, -1, -1], dtype=np.int32)}, "feature index"),
        ({"counts": np.zeros((3, 2))}, "counts has shape"),
        ({"kind": "GBTClassificationModel"}, "unknown kind"),
    ],
    ids=["cycle", "child out of range", "feature out of range", "counts", "kind"],
)
def test_malformed_trees_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        treescore.check(replace(STUMP, **change))


def test_columns_are_taken_by_name_and_extra_ones_ignored():
    frame = pd.DataFrame({"label": [5, 5], "b": [0, 0], "a": [1, 9]})
    assert features(COLUMNS, frame).tolist() == [[1.0, 0.0], [9.0, 0.0]]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1]}), "missing input column.*b"),
        (pd.DataFrame({"a": [1.0], "b": [np.nan]}), "null or NaN"),
        (pd.DataFrame({"a": ["high"], "b": [1]}), "must be numbers"),
    ],
    ids=["missing", "null", "text"],
)
def test_bad_inputs_say_what_is_wrong(frame, message):
    with pytest.raises(ValueError, match=message):
        features(COLUMNS, frame)


def test_the_pyfunc_returns_labels_or_labels_with_probabilities():
    model = PyfuncModel(STUMP)
    frame = pd.DataFrame({"a": [0, 9], "b": [0, 0]})
    assert model.predict(frame).tolist() == [1.0, 2.0]
    both = model.predict(frame, params={"output": "probability"})
    assert both["prediction"].tolist() == [1.0, 2.0]
    assert both["probability"].tolist() == [[0.0, 0.75, 0.25], [0.0, 0.2, 0.8]]
    with pytest.raises(Exception, match="params.output must be one of"):
        model.predict(frame, params={"output": "logits"})


def test_the_scorer_imports_neither_pyspark_nor_mlflow(tmp_path):
    # As in a logged model: the package alone in a code folder, imported as `treescore`.
    shutil.copytree(Path(treescore.__file__).parent, tmp_path / "treescore")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import treescore; "
        "assert not {'pyspark', 'mlflow', 'sweep'} & set(sys.modules), sorted(sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr


def grouped(trees=None):
    """A tree on (a, g) where g is a categorical feature made of the one-hot columns g0, g1, g2."""
    trees = trees or categorical({1}, num=3)
    return replace(
        trees,
        columns=("a", "g"),
        onehot_columns=("g0", "g1", "g2"),
        onehot_feature=np.array([1, 1, 1], dtype=np.int32),
    )


@pytest.mark.parametrize(
    ("g", "index"),
    [
        ([1, 0, 0], 0.0),
        ([0, 0, 1], 2.0),
        ([0, 0, 0], -1.0),  # no category: -1, unseen by every split
        ([1, 1, 0], -1.0),  # two
        ([0, 2, 0], -1.0),  # not a one-hot value
        ([1, -1, 0], -1.0),
    ],
)
def test_one_hot_groups_become_category_indices_as_the_sql_does(g, index):
    frame = pd.DataFrame([[5, *g]], columns=["a", "g0", "g1", "g2"])
    assert treescore.inputs(grouped()) == ("a", "g0", "g1", "g2")
    assert treescore.encode(grouped(), frame[["g2", "a", "g1", "g0"]]).tolist() == [[5.0, index]]


def test_a_file_with_one_hot_groups_is_format_2_and_round_trips(tmp_path):
    treescore.save(grouped(), tmp_path / "g.npz")
    treescore.save(categorical({1}, num=3), tmp_path / "plain.npz")
    with np.load(tmp_path / "g.npz") as f, np.load(tmp_path / "plain.npz") as plain:
        assert str(f["format"]) == "sweep.treescore/2" and "onehot_columns" in f.files
        assert str(plain["format"]) == "sweep.treescore/1" and "onehot_columns" not in plain.files
    loaded = treescore.load(tmp_path / "g.npz")
    assert loaded.onehot_columns == ("g0", "g1", "g2")
    frame = pd.DataFrame({"a": [0, 0, 0], "g0": [0, 1, 0], "g1": [1, 0, 0], "g2": [0, 0, 0]})
    # category 1 goes left (class 1); 0 right (class 2); no category goes where unseen ones go
    assert PyfuncModel(loaded).predict(frame).tolist() == [1.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="onehot_feature"):
        treescore.check(replace(grouped(), onehot_feature=np.array([1, 1, 5], dtype=np.int32)))
