"""Prepare the data once per sweep: locate or generate it, assemble features, split, cache.

Trials only fit and evaluate on the persisted splits; nothing re-reads or recounts the data inside a
trial.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sweep import covtype
from sweep.config import DataSettings
from sweep.download import fetch, sha256_of
from sweep.errors import DataError

log = logging.getLogger(__name__)
FEATURES_COL = "features"
LABEL_COL = "label"
SPLITS = ("train", "validation", "test")
EXAMPLE_ROWS = 5


@dataclass
class PreparedData:
    train: DataFrame
    validation: DataFrame
    test: DataFrame
    counts: dict[str, int]
    source: str
    sha256: str | None
    example: pd.DataFrame  # a few raw rows of the 54 features, int64 (as JSON requests arrive)


def assembler() -> VectorAssembler:
    return VectorAssembler(inputCols=covtype.FEATURES, outputCol=FEATURES_COL)


def local_path(cfg: DataSettings) -> Path | None:
    """The local file `data.path` names, checked to be a non-empty file. Cheap, so the CLI runs
    it before starting Spark. None when there is no path or Spark reads it (hdfs://, s3a://)."""
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


@contextmanager
def prepared(
    spark: SparkSession, cfg: DataSettings, progress: bool = True
) -> Iterator[PreparedData]:
    """Read once, assemble, split seeded, persist the three splits; unpersist them on exit."""
    raw, source, sha256 = load_raw(spark, cfg, progress)
    assembled = (
        assembler()
        .transform(raw)
        .select(FEATURES_COL, F.col(covtype.LABEL).cast("double").alias(LABEL_COL))
    )
    splits = [s.persist() for s in assembled.randomSplit(list(cfg.split), seed=cfg.seed)]
    try:
        example = raw.select(covtype.FEATURES).limit(EXAMPLE_ROWS).toPandas().astype("int64")
        counts = {name: df.count() for name, df in zip(SPLITS, splits, strict=True)}
        raw.unpersist()
        for name, n in counts.items():
            if n == 0:
                raise DataError(
                    f"the {name} split is empty ({sum(counts.values())} rows in all)",
                    where="data.split",
                    fix="Use more rows or larger split fractions",
                )
        log.info("Data %s: %s", source, counts)
        yield PreparedData(*splits, counts=counts, source=source, sha256=sha256, example=example)
    finally:
        raw.unpersist()
        for df in splits:
            df.unpersist()
