"""The random forest family (`model=forest`): Spark's RandomForestClassifier, or
RandomForestRegressor for a regression task (`sweep.tasks`).

Its table adds what makes a forest (number of trees, feature subsets, row subsampling) to the
tree parameters each of its trees takes; `model.seed` seeds the sampling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sweep.models import dtree
from sweep.params import SparkParam

if TYPE_CHECKING:
    from pyspark.ml.classification import RandomForestClassificationModel

    from sweep.config import ModelSettings

NAME = "forest"
ESTIMATOR = "RandomForestClassifier"
CURVES = ("maxDepth", "numTrees")  # sweep.curves: every tree cut; the first t trees
PARAMS: dict[str, SparkParam] = {
    "num_trees": SparkParam("numTrees", "int", 1),
    **dtree.PARAMS,
    "feature_subset_strategy": SparkParam(
        "featureSubsetStrategy",
        "choice",
        choices=("auto", "all", "onethird", "sqrt", "log2"),
    ),
    "subsampling_rate": SparkParam("subsamplingRate", "float", 0.0, 1.0, low_exclusive=True),
}


def estimator(
    params: Mapping[str, Any],
    fixed: ModelSettings,
    features: str,
    label: str,
    task: str = "classification",
    weight: str | None = None,
) -> Any:
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.regression import RandomForestRegressor

    kinds = (RandomForestClassifier, RandomForestRegressor)
    return dtree.of_task(kinds, params, fixed, features, label, task, weight)


def describe(fitted: RandomForestClassificationModel) -> dict[str, float]:
    depths = [tree.depth for tree in fitted.trees]
    return {
        "num_trees": fitted.getNumTrees,
        "total_nodes": fitted.totalNumNodes,
        "mean_tree_depth": sum(depths) / len(depths),
        "max_tree_depth": max(depths),
    }
