"""The Covtype preset as a source (`data=covtype`, `data=synthetic`): locate the UCI file or
download it, read it strictly (`sweep.data.covtype`), encode (`sweep.data.features`), split seeded,
and keep the splits in the Parquet cache for the next sweep on the same file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pyspark.ml.linalg import VectorUDT
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StructField, StructType

from sweep.config import DataSettings
from sweep.data import covtype, parquet_cache
from sweep.data import features as encodings
from sweep.data.covtype import FEATURES_COL, LABEL_COL
from sweep.data.download import fetch, sha256_of
from sweep.data.sources import existing_local
from sweep.data.splits import SPLIT_COL, SPLITS, by_draw
from sweep.errors import DataError

log = logging.getLogger(__name__)
SPLIT_SCHEMA = StructType(
    [StructField(FEATURES_COL, VectorUDT(), False), StructField(LABEL_COL, DoubleType(), False)]
)


def split_schema(features: str) -> StructType:
    """The stored splits' schema; the vector carries the encoding's attributes (categorical)."""
    meta = encodings.attributes(features)
    vector = StructField(FEATURES_COL, VectorUDT(), False, metadata=meta)
    return StructType([vector, SPLIT_SCHEMA[LABEL_COL]])


def local_path(cfg: DataSettings) -> Path | None:
    """The local Covtype file `data.path` names, checked to be a non-empty file; None when there
    is no path or Spark reads it (hdfs://, s3a://)."""
    if cfg.source != "covtype" or cfg.path is None:
        return None
    fix = (
        "Pass the path of a Covtype file (.data, .data.gz, .csv), or omit data.path to download it"
    )
    local = existing_local(cfg.path, fix)
    if local is None:
        return None
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
    which = by_draw(F.col("_draw"), cfg.split)
    return (
        encodings.encode(raw, features, FEATURES_COL)
        .withColumn("_draw", F.rand(cfg.seed))  # drawn once per row, then compared
        .select(
            FEATURES_COL,
            F.col(covtype.LABEL).cast("double").alias(LABEL_COL),
            which.alias(SPLIT_COL),
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
