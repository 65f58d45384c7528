"""Prepare the data once per sweep: locate or generate it, assemble features, split, cache.

Trials only fit and evaluate on the persisted splits; nothing re-reads or recounts the data inside a
trial. A sweep that searches the encoding prepares the splits once in each (`prepared(also=...)`),
each cached on its own; both hold the same rows in the same splits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from pyspark.ml.functions import vector_to_array
from pyspark.ml.linalg import VectorUDT
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StructField, StructType

from sweep.config import DataSettings
from sweep.data import covtype, parquet_cache
from sweep.data import features as encodings
from sweep.data.covtype import FEATURES_COL, LABEL_COL
from sweep.data.download import fetch, sha256_of
from sweep.data.spec import CLASSIFICATION, DatasetSpec
from sweep.errors import DataError

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")
SPLIT_COL = "split"
SPLIT_SCHEMA = StructType(
    [StructField(FEATURES_COL, VectorUDT(), False), StructField(LABEL_COL, DoubleType(), False)]
)
EXAMPLE_ROWS = 5
WEIGHT_COL = "weight"  # data.class_weight=balanced: the training split's inverse-frequency weights
COVTYPE = DatasetSpec(
    name="covtype",
    label=covtype.LABEL,
    task=CLASSIFICATION,
    inputs=tuple((c, "int") for c in covtype.FEATURES),
    display=tuple(covtype.CLASS_NAMES.items()),
)  # the Covtype preset: its label 1..7 as it is, its features from its encodings


@dataclass
class PreparedData:
    train: DataFrame
    validation: DataFrame
    test: DataFrame
    counts: dict[str, int]
    source: str
    sha256: str | None
    example: pd.DataFrame  # a few raw rows of the 54 features, int64 (as JSON requests arrive)
    cache: str = "off"  # what the Parquet cache did: off, read, stored, rebuilt: <why>
    features: str = "onehot"  # the encoding the vectors hold (sweep.data.features)
    # The same splits in each other encoding the sweep fits on (a searched encoding)
    alternates: dict[str, PreparedData] = field(default_factory=dict)
    spec: DatasetSpec = COVTYPE  # label, task, classes and the columns' roles
    weighted: bool = False  # the training split carries WEIGHT_COL (data.class_weight)
    raw_test: DataFrame | None = None  # a table's test split as its raw columns

    def raw_test_rows(self) -> DataFrame:
        """The test split as the model's raw input columns: a table's as read; Covtype's 54
        columns rebuilt from the vectors (one-hot: the vector is those columns)."""
        if self.raw_test is not None:
            return self.raw_test
        if self.features != "onehot":
            onehot = self.alternates.get("onehot")
            return onehot.raw_test_rows() if onehot else self._onehot_from_categorical()
        values = vector_to_array(FEATURES_COL)
        return self.test.select(
            *[values[i].cast("int").alias(c) for i, c in enumerate(covtype.FEATURES)]
        )

    def _onehot_from_categorical(self) -> DataFrame:
        rows = self.test.select(vector_to_array(FEATURES_COL).alias("x")).collect()
        frame = encodings.raw_rows(np.array([r["x"] for r in rows]), self.features)
        return self.test.sparkSession.createDataFrame(frame.astype("int32"))

    def in_encoding(self, features: str) -> PreparedData:
        """These splits in the encoding `features`: this object, or one of its alternates."""
        if features == self.features:
            return self
        if features not in self.alternates:
            raise DataError(
                f"the splits were prepared in {', '.join([self.features, *self.alternates])}, "
                f"not in {features}",
                where="search.features",
                fix=f"Add {features} to search.features.values (or use data.features={features})",
            )
        return self.alternates[features]


def split_schema(features: str) -> StructType:
    """The stored splits' schema; the vector carries the encoding's attributes (categorical)."""
    meta = encodings.attributes(features)
    vector = StructField(FEATURES_COL, VectorUDT(), False, metadata=meta)
    return StructType([vector, SPLIT_SCHEMA[LABEL_COL]])


def local_path(cfg: DataSettings) -> Path | None:
    """The local file `data.path` names, checked to be a non-empty file (data=table: a file or
    folder of a known format). Cheap, so the CLI runs it before starting Spark. None when there
    is no path or Spark reads it (hdfs://, s3a://)."""
    if cfg.source == "table":
        from sweep.data.sources import table

        return table.check(cfg)
    if cfg.source != "covtype" or cfg.path is None:
        return None
    scheme = urlparse(cfg.path).scheme
    if scheme not in ("", "file"):
        return None
    local = Path(urlparse(cfg.path).path if scheme else cfg.path).expanduser()
    if not local.exists():
        raise DataError(
            f"{local} does not exist",
            where="data.path",
            fix="Pass the path of a Covtype file (.data, .data.gz, .csv), or omit "
            "data.path to download it",
        )
    if not local.is_file():
        raise DataError(
            f"{local} is not a file",
            where="data.path",
            fix="Point data.path at the Covtype file itself, not a directory",
        )
    if local.stat().st_size == 0:
        raise DataError(
            f"{local} is empty",
            where="data.path",
            fix="Re-download the file or point data.path at the complete Covtype file",
        )
    return local.resolve()


def locate(cfg: DataSettings, progress: bool = True) -> tuple[str, str | None]:
    """The path Spark should read and its sha256; downloads Covtype when no path is given."""
    if cfg.path is None:
        path = fetch(
            cfg.urls, cfg.sha256, Path(cfg.cache_dir), "covtype.data.gz", progress=progress
        )
        return str(path), cfg.sha256 or sha256_of(path)
    local = local_path(cfg)
    if local is None:
        return cfg.path, None  # hdfs://, s3a://: Spark reads it; no local checksum
    return str(local), sha256_of(local)


def load_raw(
    spark: SparkSession, cfg: DataSettings, progress: bool = True
) -> tuple[DataFrame, str, str | None]:
    """The 55 raw integer columns, persisted, with a description of the source and its sha256."""
    if cfg.source == "synthetic":
        frame = covtype.synthesize(cfg.rows, cfg.seed)
        raw = spark.createDataFrame(frame, schema=covtype.SCHEMA).repartition(cfg.partitions)
        return (
            raw.persist(),
            f"synthetic(rows={cfg.rows}, seed={cfg.seed})",
            covtype.fingerprint(frame),
        )
    path, sha256 = locate(cfg, progress)
    return covtype.read(spark, path, cfg.partitions), path, sha256


def assign(raw: DataFrame, cfg: DataSettings, features: str = "onehot") -> DataFrame:
    """Encoded features, label and a seeded `split` column (train, validation or test): one
    uniform draw per row, so the three splits come from one pass over the data. The draw does not
    depend on the encoding: both encodings split the same rows the same way."""
    draw = F.col("_draw")
    bounds = np.cumsum(cfg.split[:-1]) / sum(cfg.split)
    which = F.when(draw < float(bounds[0]), SPLITS[0])
    for bound, name in zip(bounds[1:], SPLITS[1:-1], strict=True):
        which = which.when(draw < float(bound), name)
    return (
        encodings.encode(raw, features, FEATURES_COL)
        .withColumn("_draw", F.rand(cfg.seed))  # drawn once per row, then compared
        .select(
            FEATURES_COL,
            F.col(covtype.LABEL).cast("double").alias(LABEL_COL),
            which.otherwise(SPLITS[-1]).alias(SPLIT_COL),
        )
    )


@dataclass
class Splits:
    frames: list[DataFrame]  # train, validation, test: persisted
    counts: list[int]
    source: str
    sha256: str | None
    cache: str  # off, read, stored, or "rebuilt: <why the entry failed its check>"


def load_splits(
    spark: SparkSession, cfg: DataSettings, progress: bool = True, features: str | None = None
) -> Splits:
    """The three splits in the encoding `features` (default `data.features`), persisted, with
    their row counts: from the Parquet cache when the file was prepared before with the same
    settings and encoding and the entry passes its check, else parsed (and stored)."""
    features = features or cfg.features
    if cfg.source == "covtype" and cfg.parquet_cache:
        path, sha256 = locate(cfg, progress)
        if sha256:  # a local file or a download: a key for the cache
            return _cached_splits(spark, cfg, path, sha256, features)
    raw, source, sha256 = load_raw(spark, cfg, progress)
    try:
        encodings.check_rows(raw, features, source)
        assigned = assign(raw, cfg, features)
        splits = [
            assigned.filter(F.col(SPLIT_COL) == name).drop(SPLIT_COL).persist() for name in SPLITS
        ]
        counts = [df.count() for df in splits]
    finally:
        raw.unpersist()
    return Splits(splits, counts, source, sha256, "off")


def _cached_splits(
    spark: SparkSession, cfg: DataSettings, path: str, sha256: str, features: str
) -> Splits:
    """Read the entry; one that fails its check (files or rows against its manifest) is never
    trained on: it is discarded and rebuilt, with a warning that says what was wrong."""
    target = parquet_cache.folder(cfg, sha256, features)
    key = parquet_cache.key(cfg, sha256, features)
    status, why = "read", parquet_cache.problem(target, key)
    for _ in range(2):
        if why is not None:
            if target.exists():
                log.warning("Data: the cache entry %s is damaged (%s); rebuilding it", target, why)
                parquet_cache.discard(target)
                status = f"rebuilt: {why}"
            else:
                status = "stored"
            raw = covtype.read(spark, path, cfg.partitions)
            try:
                encodings.check_rows(raw, features, path)
                parquet_cache.store(assign(raw, cfg, features), SPLIT_COL, target, key)
            finally:
                raw.unpersist()
        else:
            log.info("Data: reading the prepared splits from %s", target)
        schema = split_schema(features)
        splits, counts = parquet_cache.load(spark, target, SPLIT_COL, SPLITS, schema)
        recorded = parquet_cache.rows(target)
        if counts == [recorded.get(name, 0) for name in SPLITS]:
            return Splits(splits, counts, path, sha256, status)
        for df in splits:
            df.unpersist()
        why = f"Spark read {counts} rows, its manifest says {recorded}"
    raise DataError(
        f"the cache entry {target} fails its check right after it was built: {why}",
        where="data.cache_dir",
        fix="Check the disk under data.cache_dir, or set data.parquet_cache=false",
    )


@contextmanager
def prepared(
    spark: SparkSession,
    cfg: DataSettings,
    progress: bool = True,
    features: str | None = None,
    also: Sequence[str] = (),
    frame: DataFrame | None = None,
) -> Iterator[PreparedData]:
    """Read once, encode (`features`, default `data.features`), split seeded, persist the three
    splits; `also`: the same splits in each of these encodings, as the result's alternates.
    Unpersist them all on exit."""
    if cfg.source == "table":
        with _prepared_table(spark, cfg, frame) as data:
            yield data
        return
    first = features or cfg.features
    made: list[PreparedData] = []
    try:
        for encoding in dict.fromkeys([first, *also]):
            made.append(_prepare(spark, cfg, progress, encoding))
        if cfg.class_weight == "balanced":
            for d in made:
                unweighted, d.train, d.weighted = d.train, with_class_weights(d.train), True
                unweighted.unpersist()
        data = made[0]
        data.alternates = {d.features: d for d in made[1:]}
        if data.alternates:  # what the Parquet cache did, per encoding
            data.cache = ", ".join(f"{d.features}: {d.cache}" for d in made)
        yield data
    finally:
        for d in made:
            for df in (d.train, d.validation, d.test):
                df.unpersist()


def _prepare(spark: SparkSession, cfg: DataSettings, progress: bool, features: str) -> PreparedData:
    """The persisted splits in one encoding (unpersisted again if a split is empty)."""
    loaded = load_splits(spark, cfg, progress, features)
    splits = loaded.frames
    counts = dict(zip(SPLITS, loaded.counts, strict=True))
    try:
        for name, n in counts.items():
            if n == 0:
                raise DataError(
                    f"the {name} split is empty ({sum(counts.values())} rows in all)",
                    where="data.split",
                    fix="Use more rows or larger split fractions",
                )
        example = _example(splits[-1], features)
    except BaseException:
        for df in splits:
            df.unpersist()
        raise
    log.info("Data %s (%s): %s", loaded.source, features, counts)
    return PreparedData(
        *splits,
        counts=counts,
        source=loaded.source,
        sha256=loaded.sha256,
        example=example,
        cache=loaded.cache,
        features=features,
    )


def _example(df: DataFrame, features: str = "onehot") -> pd.DataFrame:
    """A few rows of the 54 raw features as int64, the type JSON requests arrive as."""
    rows = df.select(vector_to_array(FEATURES_COL).alias("x")).limit(EXAMPLE_ROWS).collect()
    return encodings.raw_rows(np.array([r["x"] for r in rows]), features)


@contextmanager
def _prepared_table(
    spark: SparkSession, cfg: DataSettings, frame: DataFrame | None
) -> Iterator[PreparedData]:
    """data=table: read (or take `frame`), decide the columns' roles, split and encode
    (sweep.data.sources.table)."""
    from sweep.data.sources import table

    with table.prepared_table(spark, cfg, frame) as got:
        train, validation, test = got.frames
        for name, n in got.counts.items():
            if n == 0:
                raise DataError(
                    f"the {name} split is empty ({sum(got.counts.values())} rows in all)",
                    where="data.split_column" if cfg.split_column else "data.split",
                    fix="Use more rows, larger split fractions, or give every split rows",
                )
        weighted = cfg.class_weight == "balanced"
        if weighted:
            train = with_class_weights(train)
        yield PreparedData(
            train,
            validation,
            test,
            counts=got.counts,
            source=got.source,
            sha256=got.sha256,
            example=got.example,
            raw_test=got.raw_test,
            features=cfg.features,  # the space's encoding name; the spec encodes a table
            spec=got.spec,
            weighted=weighted,
        )
        if weighted:
            train.unpersist()


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
