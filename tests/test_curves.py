"""sweep.curves against real Spark fits: a model cut at depth d predicts row for row as the model
Spark fits with maxDepth=d (trees and forests, classification and regression, continuous and
categorical splits); a forest's first t trees score as Spark scores that prefix."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.classification import DecisionTreeClassifier, RandomForestClassifier
from pyspark.ml.regression import DecisionTreeRegressor, RandomForestRegressor

from sweep import curves
from sweep.tasks import classification, regression

DEPTHS = (0, 1, 3, 6, 9)
DEEP = 11


@pytest.fixture(scope="module")
def frames(spark):
    """Noisy data with a categorical feature (4 values, as nominal metadata) and 6 numbers, a
    4-class label and a numeric target; train and validation DataFrames."""
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(7)
    n = 2500
    x = rng.normal(size=(n, 7))
    x[:, 0] = rng.integers(0, 4, n)  # categorical
    signal = np.sin(2 * x[:, 1]) + x[:, 2] * x[:, 3] + 0.7 * (x[:, 0] == 2) + rng.normal(0, 0.6, n)
    label = np.digitize(signal, np.quantile(signal, [0.25, 0.5, 0.8])).astype(float)
    rows = [
        (Vectors.dense(r), float(c), float(t)) for r, c, t in zip(x, label, signal, strict=True)
    ]
    frame = spark.createDataFrame(rows, ["features", "label", "target"])
    meta = {"ml_attr": {"attrs": {
        "nominal": [{"idx": 0, "name": "c", "vals": ["a", "b", "c", "d"]}],
        "numeric": [{"idx": i, "name": f"n{i}"} for i in range(1, 7)],
    }, "num_attrs": 7}}  # fmt: skip
    frame = frame.withMetadata("features", meta).repartition(2).cache()
    train, validation = frame.randomSplit([0.8, 0.2], seed=3)
    return train.cache(), validation.cache()


def _arrays(frame, label):
    return curves.validation_arrays(frame, "features", label)


ESTIMATORS = {  # built in the test: a Spark estimator needs the session
    "tree-entropy": (lambda: DecisionTreeClassifier(impurity="entropy", maxBins=16, seed=1),
                     "label", "classification"),
    "tree-gini": (lambda: DecisionTreeClassifier(impurity="gini", maxBins=8, seed=1),
                  "label", "classification"),
    "tree-regressor": (lambda: DecisionTreeRegressor(maxBins=16, seed=1), "target", "regression"),
    "forest": (lambda: RandomForestClassifier(numTrees=5, maxBins=16, seed=1),
               "label", "classification"),
    "forest-regressor": (lambda: RandomForestRegressor(numTrees=4, maxBins=16, seed=1),
                         "target", "regression"),
}  # fmt: skip


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_a_model_cut_at_depth_d_predicts_as_spark_fitted_at_depth_d(frames, kind):
    train, validation = frames
    make, label, task = ESTIMATORS[kind]
    estimator = make()
    data = _arrays(validation, label)
    estimator = estimator.setLabelCol(label).setFeaturesCol("features")
    deep = estimator.copy({estimator.maxDepth: DEEP}).fit(train)
    trees = curves.model_trees(deep)
    got = curves.curves(trees, data, task, depths=DEPTHS)[curves.DEPTH]
    scorer = curves.Scorer(trees)
    cuts = [curves._Cuts(trees, scorer, data.x, t) for t in range(len(trees.roots))]
    score = classification if task == "classification" else regression
    for depth in DEPTHS:
        fresh = estimator.copy({estimator.maxDepth: depth}).fit(train)
        spark_rows = fresh.transform(validation).select("prediction", label).toPandas()
        cut, _ = curves._predict(trees, scorer, cuts, depth, data.y)
        np.testing.assert_array_equal(cut, spark_rows["prediction"].to_numpy(), f"depth {depth}")
        if task == "regression":
            expected = score.metrics_of_arrays(data.y, spark_rows["prediction"].to_numpy())
            assert got[depth] == pytest.approx(expected, rel=1e-12)
        else:
            assert got[depth]["accuracy"] == pytest.approx(
                np.mean(spark_rows["prediction"].to_numpy() == data.y), abs=1e-15
            )
    # the deepest cut is the model itself, and a depth beyond it changes nothing
    assert (
        curves.curves(trees, data, task, depths=(DEEP, DEEP + 3))[curves.DEPTH][DEEP + 3]
        == (curves.curves(trees, data, task, depths=(DEEP,))[curves.DEPTH][DEEP])
    )


def test_a_cut_tree_has_the_probabilities_of_the_fresh_fit_so_log_loss_matches(frames):
    """Spark merges sibling leaves of one prediction into their parent: the cut must too, or its
    probabilities (and logLoss) would be the children's instead of the merged leaf's."""
    train, validation = frames
    data = _arrays(validation, "label")
    estimator = DecisionTreeClassifier(impurity="gini", maxBins=16, seed=1)
    trees = curves.model_trees(estimator.copy({estimator.maxDepth: DEEP}).fit(train))
    got = curves.curves(trees, data, "classification", depths=DEPTHS)[curves.DEPTH]
    for depth in DEPTHS:
        fresh = estimator.copy({estimator.maxDepth: depth}).fit(train)
        spark_metrics = classification.evaluate(fresh, validation, _NotBinary()).metrics
        assert got[depth] == pytest.approx(spark_metrics, rel=1e-9), f"depth {depth}"


class _NotBinary:
    """What classification.evaluate reads of a dataset spec: whether the task is binary."""

    binary = False


def test_a_forests_first_t_trees_score_as_spark_scores_that_prefix(frames):
    """The prefix sums Spark's own trees' probabilities in tree order, as Spark's forest does:
    each tree's probabilities come from Spark, and all T trees give the forest's predictions."""
    train, validation = frames
    data = _arrays(validation, "label")
    forest = RandomForestClassifier(numTrees=6, maxDepth=6, maxBins=16, seed=2).fit(train)
    got = curves.curves(curves.model_trees(forest), data, "classification", tree_counts=(1, 3, 6))
    per_tree = [
        np.array(tree.transform(validation).select("probability").toPandas()["probability"]
                 .map(lambda v: v.toArray()).tolist())
        for tree in forest.trees
    ]  # fmt: skip
    for t in (1, 3, 6):
        votes = sum(per_tree[1:t], per_tree[0])
        accuracy = np.mean(votes.argmax(axis=1) == data.y)
        assert got[curves.TREES][t]["accuracy"] == pytest.approx(accuracy, abs=1e-15), t
    spark_forest = forest.transform(validation).select("prediction").toPandas()["prediction"]
    assert got[curves.TREES][6]["accuracy"] == pytest.approx(np.mean(spark_forest == data.y))


def test_the_best_point_is_the_best_value_and_the_smaller_of_equals():
    points = {4: {"accuracy": 0.8}, 6: {"accuracy": 0.9}, 8: {"accuracy": 0.9}}
    assert curves.best_point(points, "accuracy") == 6
    assert curves.best_point({4: {"rmse": 2.0}, 6: {"rmse": 1.5}}, "rmse") == 6
