"""Owns the feature encodings (`data.features`): how the 54 raw Covtype columns become the vector
a tree reads, in the prepared splits and in the logged model alike.

- `onehot` (the default): the 54 columns as they are, every one a continuous feature; the four
  `Wilderness_Area_*` and forty `Soil_Type_*` 0/1 columns are split on one at a time.
- `categorical`: the 10 numeric columns, then each one-hot group collapsed to one category index,
  `Wilderness` (0..3) and `Soil` (0..39), carried as nominal attributes in the vector's `ml_attr`
  metadata. Spark's trees read that metadata when they fit and then split on sets of categories
  ("Advanced Analytics with Spark", ch. 4) instead of on single 0/1 columns.

The encoding is part of the logged PipelineModel (`stages`): a `SQLTransformer` computes the two
indices from the raw columns and the `VectorAssembler` takes 12 columns instead of 54, so the model
still takes the 54 raw columns (`mlflow models serve`, the same JSON rows). The served pipeline
carries no nominal metadata: a fitted tree does not read it, only the fit does.

A group that is not exactly one column equal to 1 (all 0, several set, another value) is not a
category. In the training data that is an error (`check_rows`: their count and the first one),
never a guess. In a row to score it becomes category -1, which every categorical split sends the
way it sends a category it never saw (Spark's `CategoricalSplit`, and `treescore` alike).

Every function takes the encoding as an argument, so a caller may choose it per sweep or per trial.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sweep.data import columns  # names only: no Spark at import
from sweep.errors import ConfigError, DataError

if TYPE_CHECKING:
    from pyspark.ml import Transformer
    from pyspark.sql import DataFrame

    from sweep.config import ParamSpec

GROUPS: dict[str, list[str]] = {"Wilderness": columns.WILDERNESS, "Soil": columns.SOIL}
NOT_A_CATEGORY = -1  # a group without exactly one column set to 1
SPARK_DEFAULT_MAX_BINS = 32  # what a tree gets when max_bins is not searched


def feature_names(encoding: str) -> list[str]:
    """The vector's features, in order: what importances and the assembler are named by."""
    if encoding == "categorical":
        return [*columns.NUMERIC, *GROUPS]
    return list(columns.FEATURES)


def categories(encoding: str) -> dict[str, int]:
    """Categorical feature → its number of categories (none for one-hot)."""
    return {name: len(cols) for name, cols in GROUPS.items()} if encoding == "categorical" else {}


def min_bins(encoding: str) -> int:
    """The fewest bins Spark accepts: a tree needs maxBins ≥ the largest category count."""
    return max(categories(encoding).values(), default=2)


# -- the encoding as Spark stages ------------------------------------------------------------------


def _index_sql(columns: list[str]) -> str:
    group = f"array({', '.join(f'`{c}`' for c in columns)})"
    return (
        f"CAST(CASE WHEN size(filter({group}, v -> v != 0)) = 1 AND array_position({group}, 1) > 0 "
        f"THEN array_position({group}, 1) - 1 ELSE {NOT_A_CATEGORY} END AS DOUBLE)"
    )


def statement(groups: Mapping[str, list[str]]) -> str:
    """The SQLTransformer statement adding one category index column per one-hot group."""
    added = ", ".join(f"{_index_sql(cols)} AS `{name}`" for name, cols in groups.items())
    return f"SELECT *, {added} FROM __THIS__"


def groups_of(sql: str) -> dict[str, list[str]] | None:
    """The one-hot groups of a statement `statement` wrote, or None for any other SQL: the groups
    are read back, the statement rebuilt from them and compared, so nothing else is accepted."""
    names = re.findall(r"END AS DOUBLE\) AS `([^`]+)`", sql)
    sources = re.findall(r"size\(filter\(array\(([^)]*)\)", sql)
    if not names or len(names) != len(sources):
        return None
    groups = {
        name: [c.strip().strip("`") for c in cols.split(",")]
        for name, cols in zip(names, sources, strict=True)
    }
    return groups if statement(groups) == sql else None


def stages(encoding: str, output_col: str) -> list[Transformer]:
    """The stages before the model in the logged pipeline: raw 54 columns → `output_col`."""
    from pyspark.ml.feature import SQLTransformer, VectorAssembler

    assemble = VectorAssembler(inputCols=feature_names(encoding), outputCol=output_col)
    if encoding == "categorical":
        return [SQLTransformer(statement=statement(GROUPS)), assemble]
    return [assemble]


def attributes(encoding: str) -> dict[str, Any]:
    """The vector's ML attribute metadata: nominal for the category indices (with their counts),
    numeric for the rest. Empty for one-hot: its trees treat every feature as continuous."""
    nominal = categories(encoding)
    if not nominal:
        return {}
    names = feature_names(encoding)
    attrs = {
        "numeric": [{"idx": i, "name": n} for i, n in enumerate(names) if n not in nominal],
        "nominal": [
            {"idx": i, "name": n, "num_vals": nominal[n]}
            for i, n in enumerate(names)
            if n in nominal
        ],
    }
    return {"ml_attr": {"attrs": attrs, "num_attrs": len(names)}}


def encode(raw: DataFrame, encoding: str, output_col: str) -> DataFrame:
    """The raw columns plus `output_col`, the vector the trees fit on, with its attributes."""
    from pyspark.sql import functions as F

    out = raw
    for stage in stages(encoding, output_col):
        out = stage.transform(out)
    meta = attributes(encoding)
    if not meta:  # one-hot: the assembler's own metadata, as before encodings existed
        return out
    return out.withColumn(output_col, F.col(output_col).alias(output_col, metadata=meta))


def check_rows(raw: DataFrame, encoding: str, source: str) -> None:
    """DataError unless every row has exactly one column set in each one-hot group (categorical
    only: one-hot trees take such rows as they are)."""
    if encoding != "categorical":
        return
    from pyspark.ml.feature import SQLTransformer
    from pyspark.sql import functions as F

    indexed = SQLTransformer(statement=statement(GROUPS)).transform(raw)
    bad = F.lit(False)
    for name in GROUPS:
        bad = bad | (F.col(name) == NOT_A_CATEGORY)
    flagged = indexed.withColumn("_bad", bad)
    summary = flagged.agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col("_bad").cast("int"))).first()
    count = summary[1] or 0
    if count:
        first = flagged.filter("_bad").select(*columns.WILDERNESS, *columns.SOIL).first()
        shown = ",".join(str(v) for v in first)
        raise DataError(
            f"{count:,} of {summary['rows']:,} rows in {source} do not have exactly one "
            f"Wilderness_Area_* and one Soil_Type_* column set to 1, so they are no category; the "
            f"first has wilderness and soil columns {shown}",
            where="data.features",
            fix="Fix or remove those rows, or use data.features=onehot (which takes them as "
            "they are)",
        )


# -- checks before any fit -------------------------------------------------------------------------


def check_search_features(spec: ParamSpec, prefix: str = "search") -> list[str]:
    """The encodings a searched `features` entry offers; ConfigError unless it is a choice of
    onehot and/or categorical."""
    from sweep.config import ENCODINGS

    key = f"{prefix}.features"
    fix = f"Write e.g. '+{key}={{type:choice,values:[onehot,categorical]}}'"
    if spec.type != "choice":
        raise ConfigError(
            f"the encoding is searched as a choice, not type {spec.type!r}",
            where=f"{key}.type",
            fix=fix,
        )
    if not spec.values:
        raise ConfigError("a choice needs at least one value", where=f"{key}.values", fix=fix)
    for i, value in enumerate(spec.values):
        if value not in ENCODINGS:
            raise ConfigError(
                f"{value!r} is not an encoding",
                where=f"{key}.values[{i}]",
                fix=f"Use {' and/or '.join(ENCODINGS)}; {fix[0].lower()}{fix[1:]}",
            )
    return list(dict.fromkeys(spec.values))


def check_search_bins(
    encoding: str, spec: ParamSpec | None, prefix: str = "search", searched: bool = False
) -> None:
    """ConfigError when a searched (or Spark's default) max_bins can fall below the largest
    category count: Spark would refuse that fit after the data was prepared. `searched`: the
    encoding is one value of `<prefix>.features`, not `data.features`."""
    need = min_bins(encoding)
    if not categories(encoding):
        return
    if searched:
        why = f"with categorical among {prefix}.features.values"
        other = f"drop categorical from {prefix}.features.values"
    else:
        why, other = "with data.features=categorical", "data.features=onehot"
    fix = (
        f"Use {prefix}.max_bins.low={need} or more (e.g. '+{prefix}.max_bins={{type:int,"
        f"low:{need},high:300}}'), or {other}"
    )
    if spec is None:
        raise ConfigError(
            f"is not searched, so trees get Spark's default {SPARK_DEFAULT_MAX_BINS} bins, fewer "
            f"than the {need} categories of Soil {why}",
            where=f"{prefix}.max_bins",
            fix=fix,
        )
    lowest = min(spec.values or [0]) if spec.type == "choice" else spec.low
    key = f"{prefix}.max_bins.values" if spec.type == "choice" else f"{prefix}.max_bins.low"
    if lowest is not None and lowest < need:
        raise ConfigError(
            f"{lowest:g} is below {need}: {why} Soil is one feature "
            f"of {need} categories, and a Spark tree needs max_bins >= the largest category count",
            where=key,
            fix=fix,
        )


def check_params(encoding: str, params: Mapping[str, Any]) -> None:
    """The same rule for one trial's Spark params (callers outside a validated config)."""
    need, bins = min_bins(encoding), params.get("maxBins", SPARK_DEFAULT_MAX_BINS)
    if categories(encoding) and bins < need:
        raise ConfigError(
            f"{bins} is below {need}, the categories of Soil with data.features=categorical",
            where="maxBins",
            fix=f"Use maxBins >= {need}, or the onehot encoding",
        )


# -- the raw columns back --------------------------------------------------------------------------


def raw_rows(vectors: np.ndarray, encoding: str) -> pd.DataFrame:
    """The 54 raw columns (int64, as JSON requests arrive) of prepared feature vectors: the
    input example of a logged model. Category k of a group sets its k-th column."""
    names = feature_names(encoding)
    frame = pd.DataFrame(vectors, columns=names)
    for name, cols in categories_columns(encoding).items():
        index = frame.pop(name).to_numpy().astype(np.int64)
        onehot = (index[:, None] == np.arange(len(cols))).astype(np.int64)
        frame = frame.join(pd.DataFrame(onehot, columns=cols, index=frame.index))
    return frame[columns.FEATURES].astype("int64")


def categories_columns(encoding: str) -> dict[str, list[str]]:
    """Categorical feature → the one-hot columns it is made of (none for one-hot)."""
    return {n: GROUPS[n] for n in categories(encoding)}
