"""Owns turning a read table into what a sweep fits on, once per sweep: rows without a label are
dropped (counted), every column gets its role (`sweep.data.roles`), the task is decided, the rows
are split (`sweep.data.splits`), and the training split alone gives the fill values and category
lists of the dataset spec (`sweep.data.spec`), whose statement turns the raw columns into the
trees' vector. Reading the table is `sweep.data.sources.table`'s."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sweep.config import DataSettings
from sweep.data import roles
from sweep.data.sources.table import read
from sweep.data.spec import (
    CLASSIFICATION,
    DATE_PARTS,
    TIMESTAMP_PARTS,
    ColumnProfile,
    DatasetSpec,
    Feature,
    raw_expression,
)
from sweep.data.splits import SPLIT_COL, SPLITS, split_expression
from sweep.errors import DataError

log = logging.getLogger(__name__)
MEDIAN_ACCURACY = 10_000  # percentile_approx: rank error at most 1/10,000 of the training rows


def columns_stats(frame: DataFrame) -> dict[str, roles.ColumnStats]:
    """One pass: rows, missing (null or NaN) and approximate distinct values of every column."""
    aggs = [F.count(F.lit(1)).alias("_rows")]
    for i, f in enumerate(frame.schema.fields):
        col = F.col(f"`{f.name}`")
        missing = col.isNull()
        if f.dataType.simpleString() in ("float", "double"):
            missing = missing | F.isnan(col)
        aggs.append(F.sum(missing.cast("long")).alias(f"m{i}"))
        nested = roles.base_type(f.dataType.simpleString()) in ("array", "map", "struct", "binary")
        distinct = F.lit(0) if nested else F.approx_count_distinct(col, rsd=0.05)  # 0.02: 4x slower
        aggs.append(distinct.alias(f"d{i}"))
    row = frame.agg(*aggs).first()
    return {
        f.name: roles.ColumnStats(row["_rows"], row[f"m{i}"] or 0, row[f"d{i}"] or 0)
        for i, f in enumerate(frame.schema.fields)
    }


def label_classes(frame: DataFrame, label: str) -> list[Any]:
    """The label's distinct values, up to MAX_CLASSES + 1 (more is an error anyway)."""
    return [
        r[0] for r in frame.select(f"`{label}`").distinct().limit(roles.MAX_CLASSES + 1).collect()
    ]


def check_label(frame: DataFrame, cfg: DataSettings, source: str) -> str:
    """The label's Spark type; DataError unless it is a column (listing the columns)."""
    types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    if cfg.label not in types:
        raise DataError(
            f"{cfg.label!r} is not a column of {source}; its columns: {', '.join(types)}",
            where="data.label",
            fix="Name one of those columns (names are case-sensitive)",
        )
    for key, names in (("data.drop", cfg.drop), ("data.split_column", [cfg.split_column])):
        unknown = [n for n in names if n is not None and n not in types]
        if unknown:
            raise DataError(
                f"{unknown[0]!r} is not a column of {source}; its columns: {', '.join(types)}",
                where=key,
                fix="Name one of those columns (names are case-sensitive)",
            )
    return types[cfg.label]


def train_values(train: DataFrame, features: list[Feature]) -> list[Feature]:
    """The features with their training-split fill values (medians) and category lists (most
    frequent first, ties by value)."""
    filled = [f for f in features if f.kind in ("numeric", "boolean", "date")]
    medians: dict[str, float] = {}
    if filled:
        aggs = [
            F.percentile_approx(F.expr(raw_expression(f)), 0.5, MEDIAN_ACCURACY).alias(f"m{i}")
            for i, f in enumerate(filled)
        ]
        row = train.agg(*aggs).first()
        medians = {f.name: row[f"m{i}"] for i, f in enumerate(filled)}
    categorical = [f for f in features if f.kind == "categorical"]
    categories: dict[str, tuple[str, ...]] = {}
    if categorical:
        pairs = F.explode(
            F.array(*[
                F.struct(F.lit(i).alias("k"), F.col(f"`{f.source}`").cast("string").alias("v"))
                for i, f in enumerate(categorical)
            ])
        )  # fmt: skip
        counted = (
            train.select(pairs.alias("p"))
            .select("p.k", "p.v")
            .filter(F.col("v").isNotNull())
            .groupBy("k", "v")
            .count()
            .collect()
        )
        by_feature: dict[int, list[tuple[int, str]]] = {}
        for r in counted:
            by_feature.setdefault(r["k"], []).append((-r["count"], r["v"]))
        for i, f in enumerate(categorical):
            categories[f.name] = tuple(v for _, v in sorted(by_feature.get(i, [])))
    out = []
    for f in features:
        if f.kind == "categorical":
            out.append(Feature(f.name, f.source, f.kind, categories=categories[f.name]))
        else:
            fill = medians.get(f.name)
            out.append(
                Feature(
                    f.name,
                    f.source,
                    f.kind,
                    0.0 if fill is None else float(fill),
                    (),
                    f.part,
                    f.timestamp,
                )  # fmt: skip
            )
    return out


def planned_features(columns: list[tuple[str, str, str]]) -> list[Feature]:
    """(name, type, role) of the kept columns → the vector's features, before training values."""
    features = []
    for name, spark_type, role in columns:
        if role == "date":
            timestamp = roles.base_type(spark_type) == "timestamp"
            for part in TIMESTAMP_PARTS if timestamp else DATE_PARTS:
                features.append(Feature(f"{name}_{part}", name, "date", part=part,
                                        timestamp=timestamp))  # fmt: skip
        else:
            features.append(Feature(name, name, role))
    return features


@dataclass
class TableData:
    frames: list[DataFrame]  # train, validation, test: features, label; persisted
    counts: dict[str, int]
    spec: DatasetSpec
    source: str  # the path, or table:<name>
    sha256: str | None  # the file's or folder's fingerprint; None for a catalog table
    example: pd.DataFrame  # a few raw test rows of the model's input columns
    raw_test: DataFrame  # the test split's raw columns, persisted: what parity is checked on


@contextmanager
def prepared_table(
    spark: SparkSession, cfg: DataSettings, frame: DataFrame | None = None
) -> Iterator[TableData]:
    """Read (or take `frame`), decide, split and encode the table; yields the persisted splits
    and the spec."""
    raw, source, sha256 = read(spark, cfg, frame)
    made: list[DataFrame] = []
    try:
        label_type = check_label(raw, cfg, source)
        labelled = raw.filter(F.col(f"`{cfg.label}`").isNotNull())
        if label_type in ("float", "double"):
            labelled = labelled.filter(~F.isnan(F.col(f"`{cfg.label}`")))
        if labelled.rdd.getNumPartitions() != cfg.partitions:  # a CSV was read into them
            labelled = labelled.repartition(cfg.partitions)
        labelled = labelled.persist()
        made.append(labelled)
        spec, frames, counts, shown, raw_test = _prepare(labelled, raw, cfg, source, label_type)
        made.extend([*frames, raw_test])
        yield TableData(frames, counts, spec, source, sha256, shown, raw_test)
    finally:
        for frame in made:
            frame.unpersist()
        raw.unpersist()


def _prepare(
    labelled: DataFrame, raw: DataFrame, cfg: DataSettings, source: str, label_type: str
) -> tuple[DatasetSpec, list[DataFrame], dict[str, int], pd.DataFrame, DataFrame]:
    stats = columns_stats(labelled)
    total = stats[cfg.label].rows
    if total == 0:
        raise DataError(
            f"{source} has no row with a label" if raw.limit(1).count() else f"{source} is empty",
            where="data.path" if cfg.path else "data.table",
            fix="Point data at a table with rows, and data.label at a filled column",
        )
    dropped_rows = raw.count() - total
    task, classes = _task_and_classes(labelled, cfg, stats[cfg.label], label_type)
    profile, kept, notes = _roles(labelled, cfg, stats, task)
    if not kept:
        raise DataError(
            f"no usable feature is left in {source} (label {cfg.label!r}); "
            + "; ".join(notes or ["every other column is in data.drop"]),
            where="data.drop" if cfg.drop else "data.label",
            fix="Keep at least one numeric, boolean, text or date column besides the label",
        )
    if dropped_rows:
        notes.append(f"{dropped_rows:,} rows without a label are left out")
        log.warning("Data: %d rows without a label %r are left out", dropped_rows, cfg.label)
    draft = DatasetSpec(cfg.name, cfg.label, task, classes)
    split = split_expression(labelled, cfg, task, F.expr(draft.label_expression()))
    split = split.persist()
    try:
        train = split.filter(F.col(SPLIT_COL) == "train")
        features = train_values(train, planned_features(kept))
        inputs = tuple((n, t) for n, t, _ in kept)
        spec = DatasetSpec(cfg.name, cfg.label, task, classes, inputs, tuple(features),
                           tuple(profile), dropped_rows, tuple(notes))  # fmt: skip
        frames, counts = _encode(split, spec, cfg)
        test = split.filter(F.col(SPLIT_COL) == "test")
        shown = example(test, spec)
        raw_test = test.select(*[F.col(f"`{n}`") for n, _ in spec.inputs]).persist()
        raw_test.count()  # materialised before its source is unpersisted
    finally:
        split.unpersist()
    return spec, frames, counts, shown, raw_test


def _task_and_classes(
    labelled: DataFrame, cfg: DataSettings, label: roles.ColumnStats, label_type: str
) -> tuple[str, tuple[Any, ...] | None]:
    """The task the label means, and a classification's classes in index order."""
    task = roles.task_of(cfg.task, label_type, label.distinct)
    values = label_classes(labelled, cfg.label) if task == CLASSIFICATION else None
    distinct = len(values) if values is not None else label.distinct
    if problem := roles.task_problem(task, label_type, distinct):
        raise DataError(
            f"the label {cfg.label!r} cannot be learned: {problem}",
            where="data.label" if cfg.task == "auto" else "data.task",
            fix="Name another label column, or set data.task=classification|regression",
        )
    return task, None if values is None else roles.ordered_classes(values)


def _roles(
    labelled: DataFrame, cfg: DataSettings, stats: dict[str, roles.ColumnStats], task: str
) -> tuple[list[ColumnProfile], list[tuple[str, str, str]], list[str]]:
    """Each column's profile row; the kept ones (name, type, role); a note per left-out one."""
    profile, kept, notes = [], [], []
    given = {cfg.label: ("label", task), cfg.split_column: ("split", "data.split_column"),
             **{name: ("dropped", "data.drop") for name in cfg.drop}}  # fmt: skip
    for field in labelled.schema.fields:
        name, spark_type = field.name, field.dataType.simpleString()
        role, note = given.get(name) or roles.role_of(spark_type, stats[name], cfg.max_categories)
        profile.append(roles.profile_row(name, spark_type, role, stats[name], note))
        if name in given:
            continue
        if role == "dropped":
            notes.append(f"column {name!r} is left out: {note}")
            log.warning("Data: column %r is left out: %s", name, note)
        else:
            kept.append((name, spark_type, role))
    return profile, kept, notes


def _encode(
    split: DataFrame, spec: DatasetSpec, cfg: DataSettings
) -> tuple[list[DataFrame], dict[str, int]]:
    """The persisted splits: `features` (nominal attributes included) and `label` (an index)."""
    from pyspark.ml.feature import SQLTransformer

    assembled = VectorAssembler(inputCols=spec.columns(), outputCol="features").transform(
        SQLTransformer(statement=spec.statement()).transform(split)
    )
    meta = spec.attributes()
    vector = F.col("features").alias("features", metadata=meta) if meta else F.col("features")
    encoded = assembled.select(
        vector, F.expr(spec.label_expression()).cast("double").alias("label"), SPLIT_COL
    )
    frames = [encoded.filter(F.col(SPLIT_COL) == name).drop(SPLIT_COL).persist() for name in SPLITS]
    counts = {name: df.count() for name, df in zip(SPLITS, frames, strict=True)}
    return frames, counts


def example(frame: DataFrame, spec: DatasetSpec, rows: int = 5) -> pd.DataFrame:
    """A few raw rows of the model's input columns, as JSON requests would carry them: integers
    as int64, dates and timestamps as ISO text."""
    names = [n for n, _ in spec.inputs]
    sample = frame.select(*[F.col(f"`{n}`") for n in names]).limit(rows).toPandas()
    for name, spark_type in spec.inputs:
        kind = roles.base_type(spark_type)
        if kind in ("date", "timestamp"):
            sample[name] = sample[name].map(lambda v: None if pd.isna(v) else v.isoformat())
        elif roles.is_integer(spark_type) and sample[name].notna().all():
            sample[name] = sample[name].astype("int64")
    return sample
