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

import numpy as np
import pandas as pd
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession

from sweep.config import DataSettings
from sweep.data import covtype
from sweep.data import features as encodings
from sweep.data.covtype import FEATURES_COL
from sweep.data.sources import covtype as covtype_source
from sweep.data.sources.covtype import load_splits, locate  # noqa: F401  (locate: callers)
from sweep.data.spec import CLASSIFICATION, DatasetSpec
from sweep.data.splits import SPLITS, WEIGHT_COL, with_class_weights  # noqa: F401  (trial)
from sweep.errors import DataError

log = logging.getLogger(__name__)
EXAMPLE_ROWS = 5
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


def local_path(cfg: DataSettings) -> Path | None:
    """The local file `data.path` names, checked: Covtype's a non-empty file, a table's a file or
    folder of a known format. Cheap, so the CLI runs it before starting Spark. None when there is
    no path or Spark reads it (hdfs://, s3a://)."""
    if cfg.source == "table":
        from sweep.data.sources import table

        return table.check(cfg)
    return covtype_source.local_path(cfg)


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
    from sweep.data.sources import table_prepare as table

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
        try:
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
        finally:
            if weighted:  # the unweighted split is the source's to let go
                train.unpersist()
