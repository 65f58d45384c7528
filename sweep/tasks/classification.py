"""Classification: the label's classes as indices 0..k-1 (Covtype's 1..7 as they are), trees
split by gini or entropy, scored from one confusion matrix.

Every metric but the binary ones comes from one pass over the split: the (true, predicted) counts
and, per cell, the summed log loss of the true class's probability. The weighted metrics match
Spark's `MulticlassClassificationEvaluator` (weighted by the true label's frequency); `f1_macro` is
the unweighted mean of the per-class F1 over the classes present in the split, so a minority class
the model never predicts pulls it down; `logLoss` is Spark's (the true class's probability clipped
at 1e-15). A binary task adds `areaUnderROC` and `areaUnderPR` (Spark's
`BinaryClassificationEvaluator` on the probability of class 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sweep.records import Confusion
from sweep.tasks import Evaluation

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from sweep.data.spec import DatasetSpec

NAME = "classification"
DEFAULT_METRIC = "accuracy"
METRICS = ("accuracy", "f1", "weightedPrecision", "weightedRecall", "f1_macro", "logLoss")
BINARY_METRICS = ("areaUnderROC", "areaUnderPR")
IMPURITIES = ("gini", "entropy")
ESTIMATORS = {"dtree": "DecisionTreeClassifier", "forest": "RandomForestClassifier"}
EPSILON = 1e-15  # Spark's clip of the probability in logLoss


def evaluate(model: Any, data: DataFrame, spec: DatasetSpec, details: bool = False) -> Evaluation:
    """All metrics of `model` on `data` (label column `label`)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    scored = model.transform(data)
    p_true = F.element_at(vector_to_array("probability"), F.col("label").cast("int") + 1)
    cell_loss = -F.log(F.greatest(p_true, F.lit(EPSILON)))
    rows = (
        scored.groupBy("label", "prediction")
        .agg(F.count(F.lit(1)).alias("n"), F.sum(cell_loss).alias("loss"))
        .collect()
    )
    matrix = {(int(r["label"]), int(r["prediction"])): int(r["n"]) for r in rows}
    metrics = metrics_from_confusion(matrix)
    metrics["logLoss"] = sum(r["loss"] for r in rows) / sum(matrix.values())
    if spec.binary:
        metrics.update(binary_metrics(scored))
    return Evaluation(metrics, confusion=matrix if details else None)


def metrics_of_arrays(label: Any, prediction: Any, p_true: Any) -> dict[str, float]:
    """`evaluate`'s metrics but the binary ones, from NumPy arrays (`sweep.curves`): the labels,
    the predicted labels, and each row's probability of its true label."""
    import numpy as np

    pairs, counts = np.unique(
        np.stack([label, prediction]).astype(np.int64), axis=1, return_counts=True
    )
    matrix = {(int(t), int(p)): int(n) for (t, p), n in zip(pairs.T, counts, strict=True)}
    metrics = metrics_from_confusion(matrix)
    metrics["logLoss"] = float(np.mean(-np.log(np.maximum(p_true, EPSILON))))
    return metrics


def binary_metrics(scored: DataFrame) -> dict[str, float]:
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    evaluator = BinaryClassificationEvaluator(labelCol="label", rawPredictionCol="probability")
    return {m: evaluator.setMetricName(m).evaluate(scored) for m in BINARY_METRICS}


def metrics_from_confusion(matrix: Confusion) -> dict[str, float]:
    """accuracy, label-frequency-weighted precision, recall and F1 (as Spark's evaluator), and
    the macro F1 (the per-class F1 averaged over the classes in the split)."""
    total = sum(matrix.values())
    if total == 0:
        raise ValueError("cannot compute metrics on an empty data set")
    per_class = class_scores(matrix)
    precision = recall = f1 = 0.0
    for scores in per_class.values():
        weight = scores["support"] / total
        precision += weight * scores["precision"]
        recall += weight * scores["recall"]
        f1 += weight * scores["f1"]
    accuracy = sum(n for (t, p), n in matrix.items() if t == p) / total
    return {
        "accuracy": accuracy,
        "f1": f1,
        "weightedPrecision": precision,
        "weightedRecall": recall,
        "f1_macro": sum(s["f1"] for s in per_class.values()) / len(per_class),
    }


def class_scores(matrix: Confusion) -> dict[int, dict[str, float]]:
    """Per true class: its support, precision, recall and F1 (a class never predicted has
    precision 0, as in Spark)."""
    true_count: dict[int, int] = {}
    predicted_count: dict[int, int] = {}
    for (t, p), n in matrix.items():
        true_count[t] = true_count.get(t, 0) + n
        predicted_count[p] = predicted_count.get(p, 0) + n
    scores = {}
    for label in sorted(true_count):
        tp = matrix.get((label, label), 0)
        p = tp / predicted_count[label] if predicted_count.get(label) else 0.0
        r = tp / true_count[label]
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        scores[label] = {"support": true_count[label], "precision": p, "recall": r, "f1": f1}
    return scores


def recall_by_class(matrix: Confusion) -> dict[int, float]:
    """The share of each true class the model got right: a class it never predicts shows 0."""
    return {label: s["recall"] for label, s in class_scores(matrix).items()}
