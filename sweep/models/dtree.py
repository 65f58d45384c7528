"""The decision tree family (`model=dtree`): Spark's DecisionTreeClassifier, or
DecisionTreeRegressor for a regression task (`sweep.tasks`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sweep.params import SparkParam

if TYPE_CHECKING:
    from pyspark.ml.classification import DecisionTreeClassificationModel

    from sweep.config import ModelSettings

NAME = "dtree"
ESTIMATOR = "DecisionTreeClassifier"
CURVES = ("maxDepth",)  # what sweep.curves walks: a fitted tree cut at every smaller depth
PARAMS: dict[str, SparkParam] = {
    "max_depth": SparkParam("maxDepth", "int", 0, 30),
    "max_bins": SparkParam("maxBins", "int", 2),
    # gini and entropy classify, variance regresses: the task's own are checked once it is known
    "impurity": SparkParam("impurity", "choice", choices=("gini", "entropy", "variance")),
    "min_instances_per_node": SparkParam("minInstancesPerNode", "int", 1),
    "min_info_gain": SparkParam("minInfoGain", "float", 0.0),
    "min_weight_fraction_per_node": SparkParam(
        "minWeightFractionPerNode", "float", 0.0, 0.5, high_exclusive=True
    ),
}


def estimator(
    params: Mapping[str, Any],
    fixed: ModelSettings,
    features: str,
    label: str,
    task: str = "classification",
    weight: str | None = None,
) -> Any:
    """The task's tree estimator; `weight`: a column of row weights (data.class_weight)."""
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.regression import DecisionTreeRegressor

    kinds = (DecisionTreeClassifier, DecisionTreeRegressor)
    return of_task(kinds, params, fixed, features, label, task, weight)


def of_task(
    kinds: tuple[type, type],
    params: Mapping[str, Any],
    fixed: ModelSettings,
    features: str,
    label: str,
    task: str,
    weight: str | None,
) -> Any:
    """The classifier or regressor of `kinds` for the task, with the fixed settings (`model.*`),
    the row weights when there are, and the sampled params."""
    kind = kinds[1] if task == "regression" else kinds[0]
    settings = {**tree_settings(fixed), **({"weightCol": weight} if weight else {})}
    return kind(featuresCol=features, labelCol=label, **settings, **params)


def tree_settings(fixed: ModelSettings) -> dict[str, Any]:
    """The fixed settings (`model.*`) every tree takes, a forest's too, in Spark's names."""
    return {
        "seed": fixed.seed,
        "maxMemoryInMB": fixed.max_memory_in_mb,
        "cacheNodeIds": fixed.cache_node_ids,
        "checkpointInterval": fixed.checkpoint_interval,
    }


def describe(fitted: DecisionTreeClassificationModel) -> dict[str, float]:
    return {"num_nodes": fitted.numNodes, "tree_depth": fitted.depth}
