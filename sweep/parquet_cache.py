"""Prepared splits kept as Parquet, keyed by the source file's sha256 and the split settings.

Parsing the gzip text (one partition: gzip is not splittable), assembling and splitting it is most
of a sweep's data time. The first sweep on a file writes the three assembled splits to
`data.cache_dir/parquet/<key>/`; later sweeps with the same file, seed, fractions and partition
count read them back instead.

Trees depend on how the training rows are partitioned, so the first run reads its splits back
from the copy too, one file to one partition: the run that stores the copy and every run that
reads it train on the same partitions, whatever the core count. (With the cache off the rows of
each split are the same, but the partition order may differ.)

A copy appears atomically (written beside, then renamed), so an interrupted first run leaves no
half-written cache. `data.cache_dir` must be a folder every executor sees at the same path (on a
multi-host cluster: a shared mount).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from sweep.config import DataSettings

log = logging.getLogger(__name__)
FORMAT = "v1"  # bump when what is stored changes; older copies are then ignored
# Huge split and open-cost sizes make Spark read each Parquet file as one whole partition.
_ONE_FILE_ONE_PARTITION = {
    "spark.sql.files.maxPartitionBytes": str(1 << 40),
    "spark.sql.files.openCostInBytes": str(1 << 40),
}


def folder(cfg: DataSettings, sha256: str) -> Path:
    """Where the splits of the file with this sha256 go, for these split settings."""
    fractions = "-".join(f"{f:g}" for f in cfg.split)
    name = f"covtype-{FORMAT}-{sha256[:16]}-seed{cfg.seed}-split{fractions}-p{cfg.partitions}"
    return Path(cfg.cache_dir).expanduser().resolve() / "parquet" / name


def complete(target: Path) -> bool:
    return (target / "_SUCCESS").is_file()  # Spark writes it last


def store(assigned: DataFrame, by: str, target: Path) -> None:
    """Write the rows under `target`, one folder per value of column `by`, all or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        assigned.write.partitionBy(by).parquet(_uri(scratch))
        try:
            os.rename(scratch, target)
        except OSError:  # a concurrent sweep stored the same copy first: keep theirs
            if not complete(target):
                raise
        log.info("Data: stored the prepared splits in %s", target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def load(
    spark: SparkSession, target: Path, by: str, names: Sequence[str], schema: StructType
) -> tuple[list[DataFrame], list[int]]:
    """The stored rows of each value in `names`, persisted and materialised with one partition
    per file (no rows: no folder, an empty DataFrame), and their counts. With the schema given,
    Spark does not open the files to infer it."""
    parts, counts = [], []
    with _session_conf(spark, _ONE_FILE_ONE_PARTITION):
        for name in names:
            folder = target / f"{by}={name}"
            if folder.is_dir():
                df = spark.read.schema(schema).parquet(_uri(folder)).persist()
                counts.append(df.count())  # read now, while the conf decides the partitions
            else:
                df = spark.createDataFrame([], schema)
                counts.append(0)
            parts.append(df)
    return parts, counts


def _uri(path: Path) -> str:
    return f"file://{path}"  # not Path.as_uri(): it escapes the "=" of split=train


@contextmanager
def _session_conf(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
