"""Does the JVM-free scorer predict what the Spark model predicts? Checked on real rows before a
version may be promoted (the registry's `parity=58412/58412` tag).

Why a check at all, when `sweep.export` refuses what it cannot reproduce: the export proves the
shape of the pipeline, not that every row lands in the same leaf (a Spark upgrade, a rule of the
spec written differently in SQL and in pandas). One Spark pass over the rows gives both the inputs
the scorer sees and Spark's own `prediction` and `probability`, row for row, in one frame.

The scorer receives what a client would send: the raw columns as Spark holds them, dates as ISO
text and timestamps as ISO text in UTC (Spark's session time zone would otherwise shift them when
they reach pandas).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sweep.treescore import FOREST, REGRESSORS, TREE, Scorer, Trees, encode, inputs

PROBABILITY_TOLERANCE = 1e-9
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parity:
    agree: int  # rows whose prediction is the same (a class index, or a regressor's number)
    total: int
    max_proba_diff: float  # the largest probability difference (0.0 for a regressor)

    @property
    def ok(self) -> bool:
        """Every row agrees and every probability is within PROBABILITY_TOLERANCE."""
        return self.agree == self.total and self.max_proba_diff <= PROBABILITY_TOLERANCE

    @property
    def tag(self) -> str:
        """`agree/total`, as the registry's version tag shows it."""
        return f"{self.agree}/{self.total}"


def parity(
    pipeline_model: Any, raw_df: DataFrame, trees: Trees, label_col: str | None = None
) -> Parity:
    """Score `raw_df` (the user's raw columns, e.g. the test split before encoding) with the fitted
    PipelineModel and with `trees` (exported from it); `label_col`, if given, is dropped first so
    that neither side can read it."""
    if label_col is not None:
        raw_df = raw_df.drop(label_col)
    model = _tree_model(pipeline_model)
    regressor = trees.kind in REGRESSORS
    spark_out = [F.col(f"`{model.getPredictionCol()}`").alias("_spark_prediction")]
    if not regressor:
        spark_out.append(vector_to_array(model.getProbabilityCol()).alias("_spark_probability"))
    types = dict(raw_df.dtypes)
    columns = [_as_sent(name, types[name]) for name in inputs(trees)]
    frame = pipeline_model.transform(raw_df).select(*columns, *spark_out).toPandas()
    expected = frame["_spark_prediction"].to_numpy(dtype=np.float64)
    scorer = Scorer(trees)
    x = encode(trees, frame)
    if regressor:
        return Parity(int((scorer.predict(x) == expected).sum()), len(frame), 0.0)
    labels, probability = scorer.predict_proba(x)
    spark_probability = np.stack(frame["_spark_probability"]) if len(frame) else probability
    diff = float(np.abs(probability - spark_probability).max()) if len(frame) else 0.0
    return Parity(int((labels == expected).sum()), len(frame), diff)


def _tree_model(pipeline_model: Any) -> Any:
    """The pipeline's tree or forest (the stage the scorer reproduces)."""
    for stage in pipeline_model.stages:
        if type(stage).__name__ in (TREE, FOREST, *REGRESSORS):
            return stage
    raise ValueError(f"no tree model among {[type(s).__name__ for s in pipeline_model.stages]}")


def _as_sent(name: str, spark_type: str) -> Column:
    """A raw column as a client sends it: dates and timestamps as ISO text (timestamps in UTC)."""
    column = F.col(f"`{name}`")
    if spark_type == "date" or spark_type == "timestamp_ntz":
        column = column.cast("string")
    elif spark_type == "timestamp":
        utc = F.to_utc_timestamp(column, F.current_timezone())
        column = F.date_format(utc, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")
    return column.alias(name)


def logged_parity(tracker: Any, run_id: str, pipeline_model: Any, raw_df: DataFrame) -> Parity:
    """The model logged on `run_id`: its JVM-free scorer (the `trees.npz` it shipped) against
    the Spark pipeline on every row of `raw_df` (the test split's raw columns), logged."""
    from sweep import treescore
    from sweep.tracking.servable import ARTIFACT_PATH, TREES_FILE

    trees = treescore.load(tracker.download(run_id, f"{ARTIFACT_PATH}/{TREES_FILE}"))
    found = parity(pipeline_model, raw_df, trees)
    level = logging.INFO if found.ok else logging.WARNING
    log.log(level, "Parity of the JVM-free scorer with Spark on the test split: %s rows agree "
            "(largest probability difference %.2g)", found.tag, found.max_proba_diff)  # fmt: skip
    return found
