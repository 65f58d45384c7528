"""Owns the dataset spec: what a sweep learns from a table, decided once per sweep and read by the
rest (trials, the logged model, the JVM-free scorer, the report).

A spec names the label and the task, the label's classes (index → the user's value), the raw
columns the model takes, and the features the trees read, each with the rule that makes it a
number from its raw column:

- `numeric`: the value as a double; missing (null or NaN) → `fill`, the training split's median;
- `boolean`: true 1.0, false 0.0; missing → `fill` (the training split's median, 0 or 1);
- `categorical`: the value as a string, looked up in `categories` (the training split's values,
  most frequent first, ties by value); a missing or unseen value → `len(categories)`, an index of
  its own. The trees see the feature as nominal with `len(categories) + 1` values;
- `date`: one part (`year`, `month`, `day_of_week` 1 = Sunday … 7 = Saturday, `day_of_year`,
  and `hour` for timestamps) of a date or timestamp, timestamps read in UTC; missing → `fill`.

`statement()` writes those rules as the one SQLTransformer statement the logged pipeline starts
with, so `mlflow.spark.load_model(uri).transform(raw_df)` takes the user's columns; `scorer()` hands
the same rules to the JVM-free scorer (`sweep.treescore`), which applies them with pandas. Both
read only this spec, so they cannot drift apart. Pure: no Spark here.

A spec without features (`features == ()`) is a source with its own encodings (Covtype: see
`sweep.data.features`); its label is used as it is (`classes` None).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

CLASSIFICATION, REGRESSION = "classification", "regression"
KINDS = ("numeric", "boolean", "categorical", "date")
DATE_PARTS = ("year", "month", "day_of_week", "day_of_year")
TIMESTAMP_PARTS = (*DATE_PARTS, "hour")
_SPARK_PART = {
    "year": "year",
    "month": "month",
    "day_of_week": "dayofweek",
    "day_of_year": "dayofyear",
    "hour": "hour",
}
FEATURE_PREFIX = "_f"  # the statement's output columns: _f0, _f1, … (user names may hold dots)
SCORER_FORMAT = "sweep.tablespec/1"


@dataclass(frozen=True)
class Feature:
    """One entry of the feature vector and how it is computed from its raw column."""

    name: str  # what importances and plots call it (the column, or `<column>_<part>`)
    source: str  # the raw column
    kind: str  # numeric, boolean, categorical, date
    fill: float | None = None  # numeric, boolean, date: the value of a missing one
    categories: tuple[str, ...] = ()  # categorical: index i ↔ categories[i]
    part: str | None = None  # date: year, month, day_of_week, day_of_year, hour
    timestamp: bool = False  # date: the raw column is a timestamp (parts in UTC)

    @property
    def num_values(self) -> int:
        """Categorical: the nominal values the trees see (the categories + missing/unseen)."""
        return len(self.categories) + 1


@dataclass(frozen=True)
class ColumnProfile:
    """One raw column as the user sees it in the summary and the parent's `columns.csv`."""

    name: str
    type: str  # Spark's simple type name (int, double, string, date, …)
    role: str  # label, numeric, boolean, categorical, date, split, dropped
    distinct: int | None  # distinct non-missing values (approximate above a few thousand)
    missing: float  # share of rows missing (null, NaN or a null marker)
    note: str = ""  # why it was dropped, or how it is used


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # the data set's name: covtype, or the table's (churn for churn.parquet)
    label: str
    task: str  # classification or regression
    classes: tuple[Any, ...] | None = None  # index → the user's label; None: the label as is
    inputs: tuple[tuple[str, str], ...] = ()  # the raw columns the model takes, (name, type)
    features: tuple[Feature, ...] = ()  # empty: the source's own encodings (Covtype)
    profile: tuple[ColumnProfile, ...] = ()
    dropped_rows: int = 0  # rows left out because their label is missing
    notes: tuple[str, ...] = field(default_factory=tuple)  # warnings shown with the summary
    # Class index → the name tables and plots show, where `classes` is None (Covtype's 1..7)
    display: tuple[tuple[int, str], ...] = ()

    @property
    def binary(self) -> bool:
        return self.task == CLASSIFICATION and self.classes is not None and len(self.classes) == 2

    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def columns(self) -> list[str]:
        """The vector's input columns, in order (what the assembler reads)."""
        return [f"{FEATURE_PREFIX}{i}" for i in range(len(self.features))]

    def categories(self) -> dict[str, int]:
        """Categorical feature → the number of nominal values the trees see."""
        return {f.name: f.num_values for f in self.features if f.kind == "categorical"}

    def min_bins(self) -> int:
        """The fewest bins Spark accepts: maxBins ≥ the largest category count."""
        return max(self.categories().values(), default=2)

    def statement(self) -> str:
        """The SQLTransformer statement: the raw columns plus `_f0, _f1, …`."""
        parts = [
            f"{expression(f)} AS `{c}`" for f, c in zip(self.features, self.columns(), strict=True)
        ]
        return f"SELECT *, {', '.join(parts)} FROM __THIS__"

    def label_expression(self) -> str:
        """The label as Spark fits it: the class index (classification), or the number."""
        raw = quote(self.label)
        if self.classes is None:
            return f"CAST({raw} AS DOUBLE)"
        keys = [label_key(c) for c in self.classes]
        return f"try_element_at({category_map(keys)}, CAST({raw} AS STRING))"

    def class_names(self) -> dict[int, str]:
        """Class index → the name shown in tables and plots."""
        if self.classes is None:
            return dict(self.display)
        return {i: str(c) for i, c in enumerate(self.classes)}

    def attributes(self) -> dict[str, Any]:
        """The vector's ML attribute metadata: the categorical features as nominal, with their
        number of values, so Spark's trees split on sets of categories."""
        nominal = {i: f for i, f in enumerate(self.features) if f.kind == "categorical"}
        if not nominal:
            return {}
        names = self.feature_names()
        attrs = {
            "numeric": [{"idx": i, "name": n} for i, n in enumerate(names) if i not in nominal],
            "nominal": [
                {"idx": i, "name": f.name, "num_vals": f.num_values} for i, f in nominal.items()
            ],
        }
        return {
            "ml_attr": {"attrs": {k: v for k, v in attrs.items() if v}, "num_attrs": len(names)}
        }

    def scorer(self) -> dict[str, Any]:
        """What the JVM-free scorer needs to take the user's columns and return their labels."""
        return {
            "format": SCORER_FORMAT,
            "inputs": [list(pair) for pair in self.inputs],
            "features": [
                # `is`, not `in`: `0.0 in (False,)` is True, and a fill of 0.0 must stay
                {k: v for k, v in asdict(f).items() if not (v is None or v is False or v == ())}
                for f in self.features
            ],
            "label": self.label,
            "task": self.task,
            "classes": None if self.classes is None else list(self.classes),
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> DatasetSpec:
        raw = json.loads(text)
        features = tuple(
            Feature(**{**f, "categories": tuple(f["categories"])}) for f in raw.pop("features")
        )
        profile = tuple(ColumnProfile(**p) for p in raw.pop("profile"))
        classes = raw.pop("classes")
        return cls(
            **{k: v for k, v in raw.items() if k not in ("inputs", "notes", "display")},
            classes=None if classes is None else tuple(classes),
            inputs=tuple(tuple(p) for p in raw["inputs"]),
            features=features,
            profile=profile,
            notes=tuple(raw["notes"]),
            display=tuple(tuple(p) for p in raw.get("display", ())),
        )


# -- the logged pipeline around the fitted model --------------------------------------------------

PREDICTED_LABEL = "predicted_label"  # the Spark model's decoded class (classification)


def stages_before(spec: DatasetSpec, output_col: str = "features") -> list[Any]:
    """Raw columns → the vector: the statement, then the assembler (Spark's stages)."""
    from pyspark.ml.feature import SQLTransformer, VectorAssembler

    return [
        SQLTransformer(statement=spec.statement()),
        VectorAssembler(inputCols=spec.columns(), outputCol=output_col),
    ]


def stages_after(spec: DatasetSpec) -> list[Any]:
    """Classification with classes: `prediction` (an index) → `predicted_label` (the user's
    class, as text); nothing otherwise."""
    if spec.classes is None:
        return []
    from pyspark.ml.feature import IndexToString

    labels = [label_key(c) for c in spec.classes]
    return [IndexToString(inputCol="prediction", outputCol=PREDICTED_LABEL, labels=labels)]


# -- the rules as Spark SQL ------------------------------------------------------------------------


def quote(column: str) -> str:
    """A column name as a Spark SQL identifier (backticks, any character)."""
    return "`" + column.replace("`", "``") + "`"


def literal(text: str) -> str:
    """A Spark SQL string literal of any text (backslash escapes are on by default)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def number(value: float) -> str:
    """A double literal that round-trips exactly."""
    if not math.isfinite(value):
        raise ValueError(f"a fill value must be finite, not {value}")
    return f"CAST('{value!r}' AS DOUBLE)"


def category_map(keys: list[str]) -> str:
    """`map('a', 0D, 'b', 1D, …)`: key → index as a double."""
    return "map(" + ", ".join(f"{literal(k)}, {i}D" for i, k in enumerate(keys)) + ")"


def label_key(value: Any) -> str:
    """A class as Spark's CAST(label AS STRING) writes it (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def raw_expression(f: Feature) -> str:
    """One feature's value from its raw column as Spark SQL: a double, null where missing (a
    categorical value outside the categories is missing too)."""
    col = quote(f.source)
    if f.kind == "numeric":
        return f"nanvl(CAST({col} AS DOUBLE), NULL)"
    if f.kind == "boolean":
        return f"CAST(CAST({col} AS BOOLEAN) AS DOUBLE)"
    if f.kind == "categorical":
        return f"try_element_at({category_map(list(f.categories))}, CAST({col} AS STRING))"
    if f.kind == "date":
        value = (
            f"to_utc_timestamp(CAST({col} AS TIMESTAMP), current_timezone())"
            if f.timestamp
            else f"CAST({col} AS DATE)"
        )
        return f"CAST({_SPARK_PART[f.part]}({value}) AS DOUBLE)"
    raise ValueError(f"unknown feature kind {f.kind!r}")


def expression(f: Feature) -> str:
    """One feature's rule: its raw value, or where that is missing its fill (categorical: the
    index after the categories)."""
    fill = f"{len(f.categories)}D" if f.kind == "categorical" else number(f.fill)
    return f"coalesce({raw_expression(f)}, {fill})"
