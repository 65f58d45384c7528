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
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from sweep.config import DataSettings
from sweep.data.sources import existing_local
from sweep.errors import DataError
from sweep.lineage import CATALOG, DATAFRAME

log = logging.getLogger(__name__)
NULL_MARKERS = ("", "na", "nan", "null", "none", "n/a")
SAMPLE_ROWS = 10_000  # rows that decide a CSV column's type
CORRUPT = "_corrupt_record"
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
    fix = (
        "Pass the path of your table: a file (.csv, .csv.gz, .tsv, .parquet, .json, .orc) or a "
        "folder of such files"
    )
    local = existing_local(cfg.path, fix)
    if local is None:
        return None
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
            return _read_delimited(spark, path, fmt, cfg.options, cfg.partitions), path, sha256
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


def _read_delimited(
    spark: SparkSession, path: str, fmt: str, options: dict[str, str], partitions: int
) -> DataFrame:
    """A CSV/TSV with a header: all text first (so `NA` cannot turn a numeric column into text),
    malformed rows refused, then each column typed from a sample and cast once, in `partitions`
    partitions (a .gz is read as one)."""
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
        .repartition(partitions)
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
    body = text.drop(CORRUPT)
    sample = body.limit(SAMPLE_ROWS).toPandas()
    types = {c: _text_type(sample[c]) for c in header}
    # A cast already turns NA, null, None into a missing value; the markers matter where text stays
    typed = _null_markers(body.select(*[_cast(c, types[c]) for c in header])).persist()
    typed.count()  # cast once from the cached text, which is then let go
    text.unpersist()
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
    present = present[~present.str.lower().isin(NULL_MARKERS)]
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
