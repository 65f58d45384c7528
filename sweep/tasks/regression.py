"""Regression: a numeric label, trees split by variance, scored by rmse, mae and r2.

All three come from one aggregation over the split; they match Spark's `RegressionEvaluator`
(r2 = 1 - residual sum of squares / total sum of squares around the split's mean).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sweep.tasks import Evaluation

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from sweep.data.spec import DatasetSpec

NAME = "regression"
DEFAULT_METRIC = "rmse"
METRICS = ("rmse", "mae", "r2")
IMPURITIES = ("variance",)
ESTIMATORS = {"dtree": "DecisionTreeRegressor", "forest": "RandomForestRegressor"}
PLOTTED_PAIRS = 5000  # (actual, predicted) pairs collected for the plots


def evaluate(model: Any, data: DataFrame, spec: DatasetSpec, details: bool = False) -> Evaluation:
    from pyspark.sql import functions as F

    scored = model.transform(data)
    error = F.col("prediction") - F.col("label")
    row = scored.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(error * error).alias("sse"),
        F.sum(F.abs(error)).alias("sae"),
        F.sum("label").alias("sy"),
        F.sum(F.col("label") * F.col("label")).alias("syy"),
    ).first()
    metrics = metrics_from_sums(row["n"], row["sse"], row["sae"], row["sy"], row["syy"])
    pairs = []
    if details:
        sample = scored.select("label", "prediction").limit(PLOTTED_PAIRS).collect()
        pairs = [(float(r["label"]), float(r["prediction"])) for r in sample]
    return Evaluation(metrics, pairs=pairs)


def metrics_of_arrays(label: Any, prediction: Any, _: Any = None) -> dict[str, float]:
    """`evaluate`'s metrics from NumPy arrays of the labels and the predictions (`sweep.curves`)."""
    import numpy as np

    error = prediction - label
    return metrics_from_sums(
        len(label),
        float(np.sum(error * error)),
        float(np.sum(np.abs(error))),
        float(np.sum(label)),
        float(np.sum(label * label)),
    )


def metrics_from_sums(n: int, sse: float, sae: float, sy: float, syy: float) -> dict[str, float]:
    """rmse, mae and r2 from the sums of one pass (r2 is NaN for a constant label)."""
    if not n:
        raise ValueError("cannot compute metrics on an empty data set")
    total = syy - sy * sy / n
    return {
        "rmse": math.sqrt(sse / n),
        "mae": sae / n,
        "r2": 1.0 - sse / total if total > 0 else float("nan"),
    }
