"""One trial: fit the model family's estimator with given Spark params, evaluate it. No MLflow here.

All validation metrics come from one confusion matrix, i.e. one pass over the data, instead of one
`MulticlassClassificationEvaluator` pass per metric. The definitions match Spark's evaluator
(weighted by the true label's frequency), which the tests check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from sweep.config import ModelSettings
from sweep.data import features as encodings
from sweep.data.covtype import FEATURES_COL, LABEL_COL
from sweep.models import family
from sweep.records import Confusion

log = logging.getLogger(__name__)


@dataclass
class TrialResult:
    params: dict[str, Any]  # exactly as Spark got them
    metrics: dict[str, float]  # validation: accuracy, f1, weightedPrecision, weightedRecall
    fit_seconds: float
    eval_seconds: float
    summary: dict[str, float]  # what the family says about the fitted model (num_nodes, ...)
    importances: dict[str, float]
    fitted: Any  # the family's fitted Spark model (a tree, a forest)
    features: str = "onehot"  # the encoding the model was fitted on (sweep.data.features)

    def pipeline(self) -> PipelineModel:
        """The servable model: raw 54 columns → the encoding's stages (for categorical: the
        category indices, then the assembler) → model → `prediction` (1..7)."""
        return PipelineModel(stages=[*encodings.stages(self.features, FEATURES_COL), self.fitted])


def run_trial(
    train: DataFrame,
    validation: DataFrame,
    params: Mapping[str, Any],
    model: ModelSettings,
    *,
    family_name: str | None = None,
    features: str = "onehot",
) -> TrialResult:
    """Fit the family's estimator (`family_name`, else `model.family`) with these Spark
    parameters and `model`'s fixed settings on `train` (vectors in the encoding `features`);
    evaluate it on `validation`."""
    encodings.check_params(features, params)  # before Spark's own, mid-fit refusal
    chosen = family(family_name or model.family)
    estimator = chosen.estimator(params, model, FEATURES_COL, LABEL_COL)
    started = time.perf_counter()
    fitted = estimator.fit(train)
    fit_done = time.perf_counter()
    metrics = metrics_from_confusion(confusion_matrix(fitted, validation))
    evaluated = time.perf_counter()
    return TrialResult(
        params=dict(params),
        metrics=metrics,
        fit_seconds=fit_done - started,
        eval_seconds=evaluated - fit_done,
        summary=chosen.describe(fitted),
        importances=dict(
            zip(
                encodings.feature_names(features),
                fitted.featureImportances.toArray().tolist(),
                strict=True,
            )
        ),
        fitted=fitted,
        features=features,
    )


def refit(
    train: DataFrame,
    validation: DataFrame,
    params: Mapping[str, Any],
    model: ModelSettings,
    metric: str,
    logged: float | None,
    *,
    family_name: str | None = None,
    features: str = "onehot",
) -> TrialResult:
    """Fit a finished trial again (same params, split, encoding and seed) to have its model in
    memory; a score other than the one it logged is a warning (the data or Spark changed)."""
    result = run_trial(train, validation, params, model, family_name=family_name, features=features)
    if logged is not None and abs(result.metrics[metric] - logged) > 1e-9:
        log.warning(
            "The refitted trial scores %s %.6f; it logged %.6f",
            metric,
            result.metrics[metric],
            logged,
        )
    return result


def confusion_matrix(model: Any, data: DataFrame, label_col: str = LABEL_COL) -> Confusion:
    """Counts of (true, predicted) label pairs, in one pass over `data`."""
    rows = model.transform(data).groupBy(label_col, "prediction").count().collect()
    return {(int(r[label_col]), int(r["prediction"])): int(r["count"]) for r in rows}


def metrics_from_confusion(matrix: Confusion) -> dict[str, float]:
    """accuracy and label-frequency-weighted precision, recall and F1, as Spark's evaluator."""
    total = sum(matrix.values())
    if total == 0:
        raise ValueError("cannot compute metrics on an empty data set")
    labels = {t for t, _ in matrix}
    true_count = {label: 0 for label in labels}
    predicted_count: dict[int, int] = {}
    for (t, p), n in matrix.items():
        true_count[t] += n
        predicted_count[p] = predicted_count.get(p, 0) + n
    precision = recall = f1 = 0.0
    for label in labels:
        tp = matrix.get((label, label), 0)
        p = tp / predicted_count[label] if predicted_count.get(label) else 0.0
        r = tp / true_count[label]
        weight = true_count[label] / total
        precision += weight * p
        recall += weight * r
        f1 += weight * (2 * p * r / (p + r) if p + r else 0.0)
    accuracy = sum(n for (t, p), n in matrix.items() if t == p) / total
    return {
        "accuracy": accuracy,
        "f1": f1,
        "weightedPrecision": precision,
        "weightedRecall": recall,
    }
