"""Prepared splits kept as Parquet, keyed by the source file's sha256 and the split settings.

Parsing the gzip text (one partition: gzip is not splittable), assembling and splitting it is most
of a sweep's data time. The first sweep on a file writes the three assembled splits to
`data.cache_dir/parquet/<key>/`; later sweeps with the same file, seed, fractions and partition
count read them back instead.

Trees depend on how the training rows are partitioned, so the first run reads its splits back
from the copy too, one file to one partition: the run that stores the copy and every run that
reads it train on the same partitions, whatever the core count. (With the cache off the rows of
each split are the same, but the partition order may differ.)

A copy proves itself before it is used. It is written beside its place and renamed into it, and
its manifest (`_MANIFEST.json`: the key it was built from, every file with its size, the rows of
each split from the Parquet footers) is written last, before that rename. Every read checks the
files against the manifest, and the rows Spark reads against its counts; an entry that fails is
never trained on: the caller rebuilds it and says why. An interrupted first run (a signal cancels
the write) leaves only its scratch folder, which it removes. `data.cache_dir` must be a folder
every executor sees at the same path (on a multi-host cluster: a shared mount).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from sweep.config import DataSettings

log = logging.getLogger(__name__)
FORMAT = "v3"  # bump when what is stored changes; older copies are then ignored (v3: encodings)
MANIFEST = "_MANIFEST.json"
# Huge split and open-cost sizes make Spark read each Parquet file as one whole partition.
_ONE_FILE_ONE_PARTITION = {
    "spark.sql.files.maxPartitionBytes": str(1 << 40),
    "spark.sql.files.openCostInBytes": str(1 << 40),
}


def folder(cfg: DataSettings, sha256: str, features: str = "onehot") -> Path:
    """Where the splits of the file with this sha256 go, for these split settings and feature
    encoding (`data.features`: each encoding is its own entry)."""
    fractions = "-".join(f"{f:g}" for f in cfg.split)
    settings = f"seed{cfg.seed}-split{fractions}-p{cfg.partitions}"
    name = f"covtype-{FORMAT}-{sha256[:16]}-{features}-{settings}"
    return Path(cfg.cache_dir).expanduser().resolve() / "parquet" / name


def key(cfg: DataSettings, sha256: str, features: str = "onehot") -> dict[str, Any]:
    """What an entry was built from; its manifest must match it exactly."""
    return {
        "format": FORMAT,
        "sha256": sha256,
        "features": features,
        "seed": cfg.seed,
        "split": list(cfg.split),
        "partitions": cfg.partitions,
    }


def problem(target: Path, expected_key: Mapping[str, Any]) -> str | None:
    """Why the entry at `target` cannot be used, or None when its files match its manifest.
    Cheap: file sizes only; the row counts are checked after Spark reads them (`rows`)."""
    if not target.exists():
        return "there is no entry"
    try:
        manifest = json.loads((target / MANIFEST).read_text())
        files, recorded_key = manifest["files"], manifest["key"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its manifest is missing or unreadable ({type(exc).__name__})"
    if recorded_key != dict(expected_key):
        return f"it was built from {recorded_key}, not {dict(expected_key)}"
    present = _files(target)
    for name, entry in files.items():
        if name not in present:
            return f"{name} is missing"
        if present[name] != entry["bytes"]:
            return f"{name} has {present[name]:,} bytes, the manifest says {entry['bytes']:,}"
    extra = sorted(set(present) - set(files))
    if extra:
        return f"{extra[0]} is not in the manifest"
    return None


def rows(target: Path) -> dict[str, int]:
    """Rows of each split as the manifest records them (from the Parquet footers)."""
    return json.loads((target / MANIFEST).read_text())["rows"]


def store(assigned: DataFrame, by: str, target: Path, entry_key: Mapping[str, Any]) -> None:
    """Write the rows under `target`, one folder per value of column `by`, all or nothing: the
    manifest is written last, then the folder is renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        assigned.write.partitionBy(by).parquet(_uri(scratch))
        _write_manifest(scratch, by, entry_key)
        try:
            os.rename(scratch, target)
        except OSError:  # a concurrent sweep stored the same copy first: keep theirs
            if problem(target, entry_key) is not None:
                raise
        log.info("Data: stored the prepared splits in %s", target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def discard(target: Path) -> None:
    """Remove an entry that failed its check: renamed away first, so nobody reads it half gone."""
    doomed = target.with_name(f"{target.name}.damaged-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(target, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _write_manifest(folder: Path, by: str, entry_key: Mapping[str, Any]) -> None:
    files, split_rows = {}, {}
    for name, size in sorted(_files(folder).items()):
        files[name] = {"bytes": size}
        if name.endswith(".parquet"):
            n = pq.read_metadata(folder / name).num_rows
            files[name]["rows"] = n
            split = Path(name).parent.name.removeprefix(f"{by}=")
            split_rows[split] = split_rows.get(split, 0) + n
    manifest = {"key": dict(entry_key), "rows": split_rows, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))


def _files(folder: Path) -> dict[str, int]:
    """Every file under `folder` but the manifest (Spark's .crc and _SUCCESS too): path → bytes."""
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST
    }


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
