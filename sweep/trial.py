"""One trial: fit the model family's estimator with given Spark params, evaluate it. No MLflow here.

The task (`sweep.tasks`) picks the estimator (classifier or regressor) and computes the metrics in
one pass over the validation split; the dataset spec (`sweep.data.spec`) says which stages wrap the
fitted model so that the logged pipeline takes the user's raw columns.
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
from sweep.data.prepare import COVTYPE, WEIGHT_COL
from sweep.data.spec import DatasetSpec, stages_after, stages_before
from sweep.models import family
from sweep.tasks import Evaluation, task

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
    spec: DatasetSpec = COVTYPE

    def pipeline(self) -> PipelineModel:
        """The servable model, taking the raw columns: for a table, the spec's statement and
        assembler → model → the decoded class (`predicted_label`); for Covtype, the encoding's
        stages (for categorical: the category indices, then the assembler) → model →
        `prediction` (1..7)."""
        if self.spec.features:
            before, after = stages_before(self.spec, FEATURES_COL), stages_after(self.spec)
        else:
            before, after = encodings.stages(self.features, FEATURES_COL), []
        return PipelineModel(stages=[*before, self.fitted, *after])


def run_trial(
    train: DataFrame,
    validation: DataFrame,
    params: Mapping[str, Any],
    model: ModelSettings,
    *,
    family_name: str | None = None,
    features: str = "onehot",
    spec: DatasetSpec = COVTYPE,
) -> TrialResult:
    """Fit the family's estimator for the spec's task (`family_name`, else `model.family`) with
    these Spark parameters and `model`'s fixed settings on `train` (vectors in the encoding
    `features`; weighted when it has the weight column); evaluate it on `validation`."""
    if not spec.features:
        encodings.check_params(features, params)  # before Spark's own, mid-fit refusal
    chosen = family(family_name or model.family)
    weight = WEIGHT_COL if WEIGHT_COL in train.columns else None
    estimator = chosen.estimator(params, model, FEATURES_COL, LABEL_COL, spec.task, weight)
    started = time.perf_counter()
    fitted = estimator.fit(train)
    fit_done = time.perf_counter()
    metrics = evaluate(fitted, validation, spec).metrics
    evaluated = time.perf_counter()
    return TrialResult(
        params=dict(params),
        metrics=metrics,
        fit_seconds=fit_done - started,
        eval_seconds=evaluated - fit_done,
        summary=chosen.describe(fitted),
        importances=dict(
            zip(
                spec.feature_names() or encodings.feature_names(features),
                fitted.featureImportances.toArray().tolist(),
                strict=True,
            )
        ),
        fitted=fitted,
        features=features,
        spec=spec,
    )


def evaluate(model: Any, data: DataFrame, spec: DatasetSpec, details: bool = False) -> Evaluation:
    """The task's metrics of a fitted model on one split (`details`: what the plots draw)."""
    return task(spec.task).evaluate(model, data, spec, details)


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
    spec: DatasetSpec = COVTYPE,
) -> TrialResult:
    """Fit a finished trial again (same params, split, encoding and seed) to have its model in
    memory; a score other than the one it logged is a warning (the data or Spark changed)."""
    result = run_trial(
        train, validation, params, model, family_name=family_name, features=features, spec=spec
    )
    if logged is not None and abs(result.metrics[metric] - logged) > 1e-9:
        log.warning(
            "The refitted trial scores %s %.6f; it logged %.6f",
            metric,
            result.metrics[metric],
            logged,
        )
    return result
