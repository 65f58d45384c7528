"""Owns how a table's rows are split and weighed: a seeded random split, one stratified by class
(so a rare class is in every split), the user's own split column, and the training split's
inverse-frequency class weights (`data.class_weight=balanced`)."""

from __future__ import annotations

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sweep.config import DataSettings
from sweep.data.spec import CLASSIFICATION
from sweep.errors import DataError

SPLITS = ("train", "validation", "test")
SPLIT_COL = "split"
WEIGHT_COL = "weight"  # data.class_weight=balanced: the training split's row weights


def split_expression(
    frame: DataFrame, cfg: DataSettings, task: str, spec_label: Column
) -> DataFrame:
    """`frame` with a `split` column: the user's, stratified by class, or seeded random."""
    if cfg.split_column:
        return _user_split(frame, cfg.split_column)
    if task != CLASSIFICATION:
        return (
            frame.withColumn("_draw", F.rand(cfg.seed))  # drawn once per row, then compared
            .withColumn(SPLIT_COL, by_draw(F.col("_draw"), cfg.split))
            .drop("_draw")
        )
    return _stratified(frame, spec_label, np.asarray(cfg.split) / sum(cfg.split), cfg.seed)


def by_draw(draw: Column, split: list[float]) -> Column:
    """The split of a row from its uniform draw in [0, 1): train below the first fraction, and so
    on (Covtype's split, and a regression table's)."""
    bounds = np.cumsum(split[:-1]) / sum(split)
    which = F.when(draw < float(bounds[0]), SPLITS[0])
    for bound, name in zip(bounds[1:], SPLITS[1:-1], strict=True):
        which = which.when(draw < float(bound), name)
    return which.otherwise(SPLITS[-1])


def _stratified(frame: DataFrame, label: Column, fractions: np.ndarray, seed: int) -> DataFrame:
    """Each class split on its own, in a seeded random order: its first round(n·test) rows (at
    least one) go to test, the next round(n·validation) (at least one) to validation, the rest to
    train, so a class of three rows or more is in every split."""
    from pyspark.sql import Window

    order = Window.partitionBy("_class").orderBy("_draw")
    with_rank = (
        frame.withColumn("_class", label)
        .withColumn("_draw", F.rand(seed))
        .withColumn("_i", F.row_number().over(order) - 1)
        .withColumn("_n", F.count(F.lit(1)).over(Window.partitionBy("_class")))
    )
    n = F.col("_n")
    n_test = F.when(n >= 3, F.greatest(F.lit(1), F.round(n * float(fractions[2])))).otherwise(0)
    n_val = F.when(n >= 3, F.greatest(F.lit(1), F.round(n * float(fractions[1])))).otherwise(0)
    which = (
        F.when(F.col("_i") < n_test, "test")
        .when(F.col("_i") < n_test + n_val, "validation")
        .otherwise("train")
    )
    return with_rank.withColumn(SPLIT_COL, which).drop("_class", "_draw", "_i", "_n")


def _user_split(frame: DataFrame, column: str) -> DataFrame:
    value = F.lower(F.trim(F.col(f"`{column}`").cast("string")))
    named = F.when(value.isin("val", "valid"), "validation").otherwise(value)
    out = frame.withColumn(SPLIT_COL, named)
    bad = out.filter(~F.col(SPLIT_COL).isin(*SPLITS) | F.col(SPLIT_COL).isNull())
    count = bad.count()
    if count:
        first = bad.select(f"`{column}`").first()[0]
        raise DataError(
            f"{count:,} rows have a {column} that is not train, validation or test; the first: "
            f"{first!r}",
            where="data.split_column",
            fix="Give every row train, validation or test in that column, or drop "
            "data.split_column for a seeded random split",
        )
    return out


def with_class_weights(train: DataFrame) -> DataFrame:
    """The training split with WEIGHT_COL: rows / (classes × the row's class count), so every
    class weighs the same in the fit (scikit-learn's `balanced`); persisted."""
    counts = {r["label"]: r["count"] for r in train.groupBy("label").count().collect()}
    total, k = sum(counts.values()), len(counts)
    weights = F.create_map(
        *[v for label, n in counts.items() for v in (F.lit(label), F.lit(total / (k * n)))]
    )
    weighted = train.withColumn(WEIGHT_COL, weights[F.col("label")]).persist()
    weighted.count()  # materialised before the caller unpersists the unweighted split
    return weighted
