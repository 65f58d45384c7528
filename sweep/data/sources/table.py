"""The `table` source (`data=table`): any table Spark reads — a file or folder (CSV/TSV, optionally
gzipped, Parquet, JSON lines, ORC) or a table in Spark's catalog — and a label column.

Reading: the format comes from the extension (a folder: from its data files), or `data.format`.
CSV and TSV are read with a header, every column first as text: the usual null markers (empty,
`NA`, `NaN`, `null`, `None`, any case) become missing in every column, then each column's type is
decided from a sample of rows and the whole column cast once (no second pass over the file to infer
a schema; a value the sample's type cannot hold reads as missing and is counted in the column's
note). A CSV row with another number of fields than the header is an error naming the count and
the first one. Other formats keep their own types; their text columns get the same null markers.

Then, once per sweep: rows without a label are dropped (counted), every column gets its role
(`sweep.data.roles`), the task is decided, the rows are split (stratified by class, random, or the
user's `data.split_column`), and the training split alone gives the fill values and the category
lists of the dataset spec (`sweep.data.spec`), which turns the raw columns into the trees' vector.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from sweep.config import DataSettings
from sweep.data import roles
from sweep.data.spec import (
    CLASSIFICATION,
    DATE_PARTS,
    TIMESTAMP_PARTS,
    DatasetSpec,
    Feature,
    raw_expression,
)
from sweep.errors import DataError
from sweep.lineage import CATALOG, DATAFRAME

log = logging.getLogger(__name__)
NAME = "table"
NULL_MARKERS = ("", "na", "nan", "null", "none", "n/a")
SAMPLE_ROWS = 10_000  # rows that decide a CSV column's type
CORRUPT = "_corrupt_record"
SPLITS = ("train", "validation", "test")
SPLIT_COL = "split"
EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet",
    ".pq": "parquet", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".orc": "orc",
}  # fmt: skip
COMPRESSION = (".gz", ".bz2", ".snappy", ".zst", ".lz4", ".zstd")


# -- where the table is, and its format (cheap: run before Spark starts) ---------------------------


def local_path(cfg: DataSettings) -> Path | None:
    """The local file or folder `data.path` names, checked to exist and hold data; None for a
    catalog table or a path Spark reads itself (hdfs://, s3a://)."""
    if cfg.path is None:
        return None
    scheme = urlparse(cfg.path).scheme
    if scheme not in ("", "file"):
        return None
    local = Path(urlparse(cfg.path).path if scheme else cfg.path).expanduser()
    if not local.exists():
        raise DataError(
            f"{local} does not exist",
            where="data.path",
            fix="Pass the path of your table: a file (.csv, .csv.gz, .tsv, .parquet, .json, "
            ".orc) or a folder of such files",
        )
    if local.is_dir() and not data_files(local):
        raise DataError(
            f"the folder {local} holds no data files",
            where="data.path",
            fix="Point data.path at a folder Spark wrote (part-*.parquet, …) or at one file",
        )
    if local.is_file() and local.stat().st_size == 0:
        raise DataError(f"{local} is empty", where="data.path", fix="Point data.path at a table")
    return local.resolve()


def data_files(folder: Path) -> list[Path]:
    """A folder's data files, as Spark reads them: hidden and `_`-prefixed files are not data."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
    )


def format_of(cfg: DataSettings, local: Path | None) -> str:
    """`data.format`, else the extension of the file (of a folder's first data file)."""
    if cfg.format:
        return cfg.format
    target = cfg.path or ""
    if local is not None and local.is_dir():
        files = data_files(local)
        target = files[0].name if files else local.name
    name = Path(urlparse(target).path).name.lower()
    for suffix in COMPRESSION:
        name = name.removesuffix(suffix)
    found = EXTENSIONS.get(Path(name).suffix)
    if found is None:
        raise DataError(
            f"cannot tell the format of {cfg.path} from its name",
            where="data.path",
            fix="Say it with data.format=csv|tsv|parquet|json|orc",
        )
    return found


def fingerprint(local: Path) -> str:
    """sha256 of a file's bytes, or of a folder's data files (relative name and bytes)."""
    digest = hashlib.sha256()
    files = [local] if local.is_file() else data_files(local)
    for path in files:
        if local.is_dir():
            digest.update(str(path.relative_to(local)).encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def check(cfg: DataSettings) -> Path | None:
    """Everything about the table that can be checked before Spark starts: the local file or
    folder exists and its format is known. Returns it (None: a catalog table, hdfs://, …)."""
    local = local_path(cfg)
    if cfg.path:
        format_of(cfg, local)
    return local


# -- reading ---------------------------------------------------------------------------------------


def read(
    spark: SparkSession, cfg: DataSettings, frame: DataFrame | None = None
) -> tuple[DataFrame, str, str | None]:
    """The table as Spark reads it, typed, with null markers as nulls; its description (the path,
    `table:<name>` or `dataframe:<name>`) and its fingerprint (None for a catalog table or a
    DataFrame: read fresh each sweep, never cached)."""
    if frame is not None:  # handed to sweep.run: no file to fingerprint
        return _null_markers(frame), f"{DATAFRAME}{cfg.table or cfg.name}", None
    if cfg.table:
        try:
            return _null_markers(spark.table(cfg.table)), f"{CATALOG}{cfg.table}", None
        except AnalysisException as exc:
            raise DataError(
                f"Spark's catalog has no table {cfg.table!r} ({_short(exc)})",
                where="data.table",
                fix="Give the table's full name (database.table); spark.catalog.listTables() "
                "lists them",
            ) from exc
    local = local_path(cfg)
    fmt = format_of(cfg, local)
    path = str(local) if local else cfg.path
    sha256 = fingerprint(local) if local else None
    try:
        if fmt in ("csv", "tsv"):
            return _read_delimited(spark, path, fmt, cfg.options), path, sha256
        reader = spark.read.format(fmt).options(**dict(cfg.options))
        frame = reader.load(path)
        frame.schema  # noqa: B018  (an unreadable file fails here, not mid-sweep)
    except AnalysisException as exc:
        raise _unreadable(path, fmt, exc) from exc
    except Exception as exc:  # a JVM error: not that format, truncated, no access
        if "Py4J" in type(exc).__name__ or "Exception" in str(exc)[:2000]:
            raise _unreadable(path, fmt, exc) from exc
        raise
    return _null_markers(frame), path, sha256


def _unreadable(path: str, fmt: str, exc: Exception) -> DataError:
    return DataError(
        f"Spark cannot read {path} as {fmt}: {_short(exc)}",
        where="data.path",
        fix="Check that the file is complete and of that format, or set data.format",
    )


def _short(exc: Exception) -> str:
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def _read_delimited(spark: SparkSession, path: str, fmt: str, options: dict[str, str]) -> DataFrame:
    """A CSV/TSV with a header: all text first (so `NA` cannot turn a numeric column into text),
    malformed rows refused, then each column typed from a sample and cast once."""
    settings = {"header": "true", "sep": "\t" if fmt == "tsv" else ",", "multiLine": "false",
                "escape": '"', **dict(options)}  # fmt: skip
    header = spark.read.options(**settings).csv(path).columns
    if not header:
        raise DataError(f"{path} has no header row", where="data.path", fix="Add a header row")
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField(c, StringType()) for c in [*header, CORRUPT]])
    text = (
        spark.read.options(**settings, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT)
        .schema(schema)
        .csv(path)
        .cache()
    )
    bad = text.filter(F.col(CORRUPT).isNotNull())
    try:
        summary = text.agg(F.count(F.lit(1)), F.count(CORRUPT)).first()
    except Exception as exc:
        text.unpersist()
        raise _unreadable(path, fmt, exc) from exc
    if summary[1]:
        first = bad.select(CORRUPT).first()[0]
        text.unpersist()
        raise DataError(
            f"{summary[1]:,} of {summary[0]:,} rows in {path} do not have the header's "
            f"{len(header)} fields; the first: {first[:120]!r}",
            where="data.path",
            fix="Fix or remove those rows, or give the right separator, e.g. "
            "'+data.options={sep:\";\"}'",
        )
    nulled = _null_markers(text.drop(CORRUPT))
    sample = nulled.limit(SAMPLE_ROWS).toPandas()
    typed = nulled.select(*[_cast(c, _text_type(sample[c])) for c in header])
    return typed


def _null_markers(frame: DataFrame) -> DataFrame:
    """Text columns with the usual null markers (any case, around spaces) as null."""
    text = {f.name for f in frame.schema.fields if f.dataType.simpleString() == "string"}
    if not text:
        return frame
    markers = F.array(*[F.lit(m) for m in NULL_MARKERS])

    def clean(name: str) -> Column:
        value = F.col(f"`{name}`")
        return F.when(F.array_contains(markers, F.lower(F.trim(value))), F.lit(None)).otherwise(
            value
        )

    return frame.select(
        *[(clean(f.name) if f.name in text else F.col(f"`{f.name}`")).alias(f.name)
          for f in frame.schema.fields]
    )  # fmt: skip


def _text_type(values: pd.Series) -> str:
    """The narrowest Spark type every non-missing sampled value of a text column fits."""
    present = values.dropna().astype(str).str.strip()
    if present.empty:
        return "string"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        whole = present.str.fullmatch(r"[+-]?\d+")
        if whole.all() and numbers.abs().max() < 2**62:
            return "bigint"
        return "double"
    if present.str.lower().isin(["true", "false"]).all():
        return "boolean"
    dates = present.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    if dates and pd.to_datetime(present, format="%Y-%m-%d", errors="coerce").notna().all():
        return "date"
    iso = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
    if present.str.fullmatch(iso).all():
        return "timestamp"
    return "string"


def _cast(name: str, spark_type: str) -> Column:
    column = f"`{name}`"
    if spark_type == "string":
        return F.col(column).alias(name)
    if spark_type == "boolean":  # try_cast to boolean takes 't', 'yes', '1'; the sample said words
        return F.expr(f"try_cast(lower(trim({column})) AS BOOLEAN)").alias(name)
    return F.expr(f"try_cast(trim({column}) AS {spark_type.upper()})").alias(name)


# -- the spec: roles, task, classes, split, fill values and categories -----------------------------


def columns_stats(frame: DataFrame) -> dict[str, roles.ColumnStats]:
    """One pass: rows, missing (null or NaN) and approximate distinct values of every column."""
    aggs = [F.count(F.lit(1)).alias("_rows")]
    for i, f in enumerate(frame.schema.fields):
        col = F.col(f"`{f.name}`")
        missing = col.isNull()
        if f.dataType.simpleString() in ("float", "double"):
            missing = missing | F.isnan(col)
        aggs.append(F.sum(missing.cast("long")).alias(f"m{i}"))
        kind = roles.base_type(f.dataType.simpleString())
        if kind in ("array", "map", "struct", "binary"):
            aggs.append(F.lit(0).alias(f"d{i}"))
        else:
            aggs.append(F.approx_count_distinct(col, rsd=0.02).alias(f"d{i}"))
    row = frame.agg(*aggs).first()
    rows = row["_rows"]
    return {
        f.name: roles.ColumnStats(rows, row[f"m{i}"] or 0, row[f"d{i}"] or 0)
        for i, f in enumerate(frame.schema.fields)
    }


def label_classes(frame: DataFrame, label: str) -> list[Any]:
    """The label's distinct values, up to MAX_CLASSES + 1 (more is an error anyway)."""
    rows = frame.select(f"`{label}`").distinct().limit(roles.MAX_CLASSES + 1).collect()
    return [r[0] for r in rows]


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


def split_expression(
    frame: DataFrame, cfg: DataSettings, task: str, spec_label: Column
) -> DataFrame:
    """`frame` with a `split` column: the user's, stratified by class, or seeded random."""
    if cfg.split_column:
        return _user_split(frame, cfg.split_column)
    fractions = np.asarray(cfg.split) / sum(cfg.split)
    if task != CLASSIFICATION:
        bounds = np.cumsum(fractions[:-1])
        draw = F.col("_draw")
        which = F.when(draw < float(bounds[0]), SPLITS[0]).when(draw < float(bounds[1]), SPLITS[1])
        return (
            frame.withColumn("_draw", F.rand(cfg.seed))
            .withColumn(SPLIT_COL, which.otherwise(SPLITS[2]))
            .drop("_draw")
        )
    return _stratified(frame, spec_label, fractions, cfg.seed)


def _stratified(frame: DataFrame, label: Column, fractions: np.ndarray, seed: int) -> DataFrame:
    """Each class split on its own, in a seeded random order: its first ⌈n·test⌉ rows go to
    test, the next ⌈n·validation⌉ to validation, the rest to train, so a class of three rows or
    more is in every split."""
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


def train_values(train: DataFrame, features: list[Feature]) -> list[Feature]:
    """The features with their training-split fill values (medians) and category lists (most
    frequent first, ties by value)."""
    filled = [f for f in features if f.kind in ("numeric", "boolean", "date")]
    medians: dict[str, float] = {}
    if filled:
        aggs = [
            F.percentile_approx(F.expr(raw_expression(f)), 0.5, 100_000).alias(f"m{i}")
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
        labelled = labelled.repartition(cfg.partitions).persist()
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
    label_stats = stats[cfg.label]
    task = roles.task_of(cfg.task, label_type, label_stats.distinct)
    classes = None
    if task == CLASSIFICATION:
        values = label_classes(labelled, cfg.label)
        distinct = len(values)
    else:
        distinct = label_stats.distinct
    if problem := roles.task_problem(task, label_type, distinct):
        raise DataError(
            f"the label {cfg.label!r} cannot be learned: {problem}",
            where="data.label" if cfg.task == "auto" else "data.task",
            fix="Name another label column, or set data.task=classification|regression",
        )
    if task == CLASSIFICATION:
        classes = roles.ordered_classes(values)
    profile, kept, notes = [], [], []
    left_out = {*cfg.drop, cfg.label, cfg.split_column}
    for field in labelled.schema.fields:
        spark_type = field.dataType.simpleString()
        s = stats[field.name]
        if field.name == cfg.label:
            profile.append(roles.profile_row(field.name, spark_type, "label", s, task))
            continue
        if field.name in left_out:
            role = "split" if field.name == cfg.split_column else "dropped"
            profile.append(
                roles.profile_row(
                    field.name,
                    spark_type,
                    role,
                    s,
                    "data.drop" if role == "dropped" else "data.split_column",
                )
            )
            continue
        role, note = roles.role_of(spark_type, s, cfg.max_categories)
        profile.append(roles.profile_row(field.name, spark_type, role, s, note))
        if role == "dropped":
            notes.append(f"column {field.name!r} is left out: {note}")
            log.warning("Data: column %r is left out: %s", field.name, note)
        else:
            kept.append((field.name, spark_type, role))
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


def _encode(
    split: DataFrame, spec: DatasetSpec, cfg: DataSettings
) -> tuple[list[DataFrame], dict[str, int]]:
    """The persisted train, validation and test splits: `features` (with the nominal
    attributes), `label` (the class index or the number) and, with class weights, `weight`."""
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
            sample[name] = sample[name].map(lambda v: None if v is None else v.isoformat())
        elif roles.is_integer(spark_type) and sample[name].notna().all():
            sample[name] = sample[name].astype("int64")
    return sample
