"""The Covtype data set: its columns and feature vector, a strict reader for the UCI file, and a
synthetic twin.

The reader parses every line itself (no inferSchema, no silent nulls): a row with the wrong
number of fields, a non-integer field or a label outside 1..7 is an error that names how many
rows are bad and shows the first one.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StructField, StructType

from sweep.data.columns import (  # noqa: F401  (the schema's names, used via covtype)
    CLASS_NAMES,
    COLUMNS,
    FEATURES,
    FEATURES_COL,
    LABEL,
    LABEL_COL,
    NUMERIC,
    SOIL,
    WILDERNESS,
)
from sweep.errors import DataError

SCHEMA = StructType([StructField(c, IntegerType(), nullable=False) for c in COLUMNS])


def assembler() -> VectorAssembler:
    """The first stage of every logged model: the 54 raw columns → the `features` vector."""
    return VectorAssembler(inputCols=FEATURES, outputCol=FEATURES_COL)


def parse_lines(lines: DataFrame) -> DataFrame:
    """Text lines (`value`) → the 55 typed columns plus `_problem`, null for a good row."""
    fields = F.split(F.trim(F.col("value")), ",")
    n = F.size(fields)
    # try_*: Spark 4 runs in ANSI mode, where cast and element_at raise instead of giving null.
    typed = [
        F.expr(f"try_cast(trim(try_element_at(_fields, {i + 1})) AS INT)").alias(c)
        for i, c in enumerate(COLUMNS)
    ]
    problem = (
        F.when(n != len(COLUMNS), F.format_string(f"has %d fields, expected {len(COLUMNS)}", n))
        .when(
            F.exists(F.col("_ints"), lambda v: v.isNull()),
            F.lit("has a field that is not an integer"),
        )
        .when(
            ~F.col(LABEL).between(1, 7),
            F.format_string(f"has {LABEL} %d, expected 1..7", F.col(LABEL)),
        )
    )
    return (
        lines.select(F.col("value"), fields.alias("_fields"))
        .select("value", *typed)
        .withColumn("_ints", F.array(*[F.col(c) for c in COLUMNS]))
        .withColumn("_problem", problem)
        .drop("_ints")
    )


def read(spark: SparkSession, path: str, partitions: int) -> DataFrame:
    """Read a headerless Covtype CSV (.data, .csv, optionally .gz); raise DataError on bad rows.

    The returned DataFrame is persisted with `partitions` partitions; the caller unpersists it.
    """
    parsed = parse_lines(read_lines(spark, path)).repartition(partitions).persist()
    try:
        check(parsed, path)
    except DataError:
        parsed.unpersist()
        raise
    return parsed.select(COLUMNS)


def read_lines(spark: SparkSession, path: str) -> DataFrame:
    """The non-blank text lines of a file (one partition for a .gz: gzip is not splittable)."""
    return spark.read.text(path).filter(F.length(F.trim("value")) > 0)


def check(parsed: DataFrame, path: str, line: str = "value") -> None:
    """Raise DataError unless `parsed` (from parse_lines) holds rows and none is malformed.

    `line` is the column holding the raw text of a row, at least for the bad ones.
    """
    try:
        summary = parsed.agg(
            F.count(F.lit(1)).alias("rows"),
            F.count("_problem").alias("bad"),
        ).first()
    except Exception as exc:  # a truncated gzip or unreadable file surfaces as a JVM error
        raise unreadable(path, exc) from exc
    if summary["rows"] == 0:
        raise DataError(
            f"{path} holds no data rows",
            where="data.path",
            fix="Point data.path at the Covtype file (55 comma-separated integers a row)",
        )
    if summary["bad"]:
        first = parsed.filter(F.col("_problem").isNotNull()).select(line, "_problem").first()
        raise DataError(
            f"{summary['bad']:,} of {summary['rows']:,} rows in {path} are malformed; the first "
            f"{first['_problem']}: {first[line][:120]!r}",
            where="data.path",
            fix="Covtype rows are 55 comma-separated integers without a header, the label last "
            "(1..7); fix or remove the bad rows",
        )


def unreadable(path: str, exc: Exception) -> DataError:
    """The error for a file Spark failed to read (a JVM exception: truncated gzip, no access)."""
    return DataError(
        f"cannot read {path}: {_first_line(str(exc))}",
        where="data.path",
        fix="Check that the file is complete (re-download it) and readable",
    )


def _first_line(message: str) -> str:
    for line in message.splitlines():
        if "Exception" in line or "Error" in line:
            return line.strip()[:300]
    return message.strip().splitlines()[0][:300] if message.strip() else "unknown error"


def synthesize(rows: int, seed: int) -> pd.DataFrame:
    """A deterministic Covtype-shaped data set whose label a tree can learn (~90% with depth 10).

    The label follows elevation bands (as in the real data), shifted by wilderness area and slope,
    with 8% of labels replaced at random so that no tree is perfect.
    """
    rng = np.random.default_rng(seed)
    elevation = rng.integers(1859, 3859, rows)
    wilderness = rng.integers(0, 4, rows)
    soil = rng.integers(0, 40, rows)
    numeric = {
        "Elevation": elevation,
        "Aspect": rng.integers(0, 361, rows),
        "Slope": rng.integers(0, 67, rows),
        "Horizontal_Distance_To_Hydrology": rng.integers(0, 1398, rows),
        "Vertical_Distance_To_Hydrology": rng.integers(-173, 602, rows),
        "Horizontal_Distance_To_Roadways": rng.integers(0, 7118, rows),
        "Hillshade_9am": rng.integers(0, 255, rows),
        "Hillshade_Noon": rng.integers(0, 255, rows),
        "Hillshade_3pm": rng.integers(0, 255, rows),
        "Horizontal_Distance_To_Fire_Points": rng.integers(0, 7174, rows),
    }
    band = (elevation - 1859) * 7 // 2000 + (wilderness == 3) - (numeric["Slope"] > 45)
    label = np.clip(band, 0, 6) + 1
    noisy = rng.random(rows) < 0.08
    label = np.where(noisy, rng.integers(1, 8, rows), label)
    frame = pd.DataFrame(numeric)
    for i in range(4):
        frame[f"Wilderness_Area_{i}"] = (wilderness == i).astype(np.int32)
    for i in range(40):
        frame[f"Soil_Type_{i}"] = (soil == i).astype(np.int32)
    frame[LABEL] = label
    return frame[COLUMNS].astype(np.int32)


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of a data frame's values, standing in for a file checksum for generated data."""
    return hashlib.sha256(np.ascontiguousarray(frame.to_numpy(np.int32)).tobytes()).hexdigest()
