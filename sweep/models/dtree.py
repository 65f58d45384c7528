"""The decision tree family (`model=dtree`): Spark's DecisionTreeClassifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sweep.params import SparkParam

if TYPE_CHECKING:
    from pyspark.ml.classification import DecisionTreeClassificationModel, DecisionTreeClassifier

    from sweep.config import ModelSettings

NAME = "dtree"
ESTIMATOR = "DecisionTreeClassifier"
PARAMS: dict[str, SparkParam] = {
    "max_depth": SparkParam("maxDepth", "int", 0, 30),
    "max_bins": SparkParam("maxBins", "int", 2),
    "impurity": SparkParam("impurity", "choice", choices=("gini", "entropy")),
    "min_instances_per_node": SparkParam("minInstancesPerNode", "int", 1),
    "min_info_gain": SparkParam("minInfoGain", "float", 0.0),
    "min_weight_fraction_per_node": SparkParam(
        "minWeightFractionPerNode", "float", 0.0, 0.5, high_exclusive=True
    ),
}


def estimator(
    params: Mapping[str, Any], fixed: ModelSettings, features: str, label: str
) -> DecisionTreeClassifier:
    from pyspark.ml.classification import DecisionTreeClassifier

    return DecisionTreeClassifier(
        featuresCol=features, labelCol=label, **tree_settings(fixed), **params
    )


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
