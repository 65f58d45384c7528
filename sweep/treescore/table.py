"""Format 3's rules: the user's raw columns → the trees' feature vector, and a class index → the
user's label, as the logged pipeline's SQLTransformer and IndexToString compute them in Spark.

Why a module of its own: these rules mirror `sweep.data.spec` (which writes them as Spark SQL)
column kind by column kind, while the package's `__init__` scores trees; both ship together inside
every logged model, so this imports nothing of `sweep` either. The file carries the spec's
`scorer()` dict as JSON; per feature (`_f0, _f1, …` in order), from its raw column `source`:

- numeric: the value as a double (a `float` column through float32 first, as Spark stores it);
  null, NaN or a null marker text (`NA`, `null`, …) → `fill`;
- boolean: Spark's CAST(x AS BOOLEAN) (True/False, "true"/"false", "yes", 1/0, …) as 1.0/0.0;
  missing → `fill`;
- categorical: the value as Spark's CAST(x AS STRING) writes it, its index in `categories`;
  missing or unseen → `len(categories)`;
- date: `year`, `month`, `day_of_week` (1 = Sunday … 7 = Saturday, Spark's dayofweek),
  `day_of_year` or `hour`. A date column takes the date as written (ISO text, date, datetime64);
  a timestamp column the instant in UTC (text or datetime64 without an offset is UTC). Missing →
  `fill`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SPEC_FORMAT = "sweep.tablespec/1"
KINDS = ("numeric", "boolean", "categorical", "date")
PARTS = ("year", "month", "day_of_week", "day_of_year", "hour")
NULL_MARKERS = frozenset({"", "na", "nan", "null", "none", "n/a"})  # as sweep's table reader
TRUE_TEXT = frozenset({"t", "true", "y", "yes", "1"})  # Spark's CAST(text AS BOOLEAN)
FALSE_TEXT = frozenset({"f", "false", "n", "no", "0"})
FLOAT32 = frozenset({"float", "real"})


@dataclass(frozen=True)
class Table:
    """The spec's rules, parsed once."""

    inputs: tuple[str, ...]  # the raw columns a row carries
    types: dict[str, str]  # raw column → its Spark type
    features: tuple[dict, ...]  # the spec's features, in vector order
    task: str  # classification or regression
    classes: tuple[Any, ...] | None  # class index → the user's label
    index: tuple[dict[str, int] | None, ...]  # categorical feature: category text → index


def parse(text: str) -> Table:
    spec = json.loads(text)
    features = tuple(spec["features"])
    return Table(
        inputs=tuple(name for name, _ in spec["inputs"]),
        types={name: str(t).lower() for name, t in spec["inputs"]},
        features=features,
        task=spec["task"],
        classes=None if spec.get("classes") is None else tuple(spec["classes"]),
        index=tuple(
            {c: i for i, c in enumerate(f.get("categories", ()))}
            if f["kind"] == "categorical"
            else None
            for f in features
        ),
    )


def problems(text: str, num_features: int) -> list[str]:
    """What makes a spec unusable for trees of `num_features` features (empty: none)."""
    try:
        spec = json.loads(text)
        if spec.get("format") != SPEC_FORMAT:
            return [f"spec format {spec.get('format')!r} is not {SPEC_FORMAT}"]
        table = parse(text)
    except (ValueError, KeyError, TypeError) as exc:
        return [f"the spec is not a {SPEC_FORMAT} JSON object ({exc!r})"]
    found = [] if len(table.features) == num_features else [
        f"the spec has {len(table.features)} features, the trees {num_features}"
    ]  # fmt: skip
    for j, f in enumerate(table.features):
        kind, fill = f.get("kind"), f.get("fill")
        filled = isinstance(fill, int | float) and math.isfinite(fill)
        bad = (
            kind not in KINDS
            or f.get("source") not in table.types
            or (kind == "categorical" and not isinstance(f.get("categories", []), list))
            or (kind == "date" and f.get("part") not in PARTS)
            or (kind != "categorical" and not filled)
        )
        if bad:
            found.append(f"feature {j} {f!r} has no known kind, source, fill or part")
    return found


def require(columns: tuple[str, ...], frame: pd.DataFrame) -> None:
    """ValueError naming the input columns `frame` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ValueError(f"missing input column(s): {', '.join(missing[:5])}{more}")


def encode(table: Table, data: Any) -> np.ndarray:
    """(n, features) float64 from the raw columns: a DataFrame (by name, extra columns ignored),
    records, or an array in `table.inputs` order."""
    frame = _frame(table, data)
    out = np.empty((len(frame), len(table.features)), dtype=np.float64)
    instants: dict[str, np.ndarray] = {}  # a date column's parsed values, shared by its parts
    for j, f in enumerate(table.features):
        source, kind = f["source"], f["kind"]
        column = frame[source]
        if kind == "categorical":
            out[:, j] = _category(column, table.index[j])
            continue
        if kind == "date":
            if source not in instants:
                timestamp = f.get("timestamp", False)
                instants[source] = _instants(column, timestamp, source)
            value = _part(instants[source], f["part"])
        elif kind == "boolean":
            value = _values(column, _boolean, source)
        else:
            value = _numbers(column, table.types[source], source)
        out[:, j] = np.where(np.isnan(value), f["fill"], value)
    return out


def labels(table: Table, prediction: np.ndarray) -> np.ndarray:
    """Class indices → the user's labels (strings, booleans, integers as they were); a regressor's
    numbers as they are."""
    if table.task == "regression" or table.classes is None:
        return prediction
    return _label_array(table.classes)[prediction.astype(np.int64)]


def _label_array(classes: tuple[Any, ...]) -> np.ndarray:
    for kind, dtype in ((bool, bool), (int, np.int64), (int | float, np.float64)):
        if all(isinstance(c, kind) for c in classes):
            return np.array(classes, dtype=dtype)
    return np.array(classes, dtype=object)


def _frame(table: Table, data: Any) -> pd.DataFrame:
    if isinstance(data, dict) or (isinstance(data, list) and data and isinstance(data[0], dict)):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        array = np.asarray(data, dtype=object)
        if array.ndim != 2 or array.shape[1] != len(table.inputs):
            raise ValueError(f"expected (n, {len(table.inputs)}) values, got {array.shape}")
        return pd.DataFrame(array, columns=list(table.inputs))
    require(table.inputs, data)
    return data


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _values(column: pd.Series, convert: Any, name: str) -> np.ndarray:
    if column.dtype.kind in "biuf":  # numbers or booleans (nullable ones too): no per-value work
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.array([convert(v, name) for v in column.tolist()], dtype=np.float64)


def _numbers(column: pd.Series, spark_type: str, name: str) -> np.ndarray:
    value = _values(column, _number, name)
    return value.astype(np.float32).astype(np.float64) if spark_type in FLOAT32 else value


def _number(value: Any, name: str) -> float:
    if _missing(value):
        return math.nan
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in NULL_MARKERS:
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"column {name!r}: {value!r} is not a number") from None
    return float(value)


def _boolean(value: Any, name: str) -> float:
    if _missing(value):
        return math.nan
    if not isinstance(value, str):
        return 1.0 if value else 0.0  # Spark: a number is true unless 0
    text = value.strip().lower()
    if text in TRUE_TEXT or text in FALSE_TEXT:
        return 1.0 if text in TRUE_TEXT else 0.0
    if text in NULL_MARKERS:
        return math.nan
    raise ValueError(f"column {name!r}: {value!r} is not a boolean")


def _category(column: pd.Series, index: dict[str, int]) -> np.ndarray:
    found = [index.get(_spark_text(v), len(index)) for v in column.tolist()]
    return np.array(found, dtype=np.float64)


def _spark_text(value: Any) -> str | None:
    """A value as Spark's CAST(x AS STRING) writes it; None where it is missing."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _java_double(float(value))
    return str(value)


def _java_double(value: float) -> str:
    """Java's Double.toString: plain from 1e-3 to 1e7, else `1.5E-5`; infinities by name."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    mantissa, exponent = np.format_float_scientific(value, unique=True, trim="0").split("e")
    return f"{mantissa}E{int(exponent)}"


def _instants(column: pd.Series, timestamp: bool, name: str) -> np.ndarray:
    """datetime64[us] (NaT where missing): a timestamp as its UTC instant, a date at midnight."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    if column.dtype.kind != "M":
        cleaned = [_date_text(v, timestamp) for v in column.tolist()]
        try:
            parsed = pd.to_datetime(pd.Series(cleaned, dtype=object), utc=True, format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"column {name!r}: not an ISO date or timestamp ({exc})") from None
        column = parsed.dt.tz_localize(None)
    instants = column.to_numpy().astype("datetime64[us]")
    return instants if timestamp else instants.astype("datetime64[D]").astype("datetime64[us]")


def _date_text(value: Any, timestamp: bool) -> Any:
    """Null markers as missing; a date column's text cut to its date (Spark's CAST to DATE
    ignores a time and offset after it)."""
    if not isinstance(value, str):
        return None if _missing(value) else value
    text = value.strip()
    if text.lower() in NULL_MARKERS:
        return None
    return text if timestamp else text.replace("T", " ").split(" ", 1)[0]


def _part(instants: np.ndarray, part: str) -> np.ndarray:
    """One part of each instant as a double (NaN where missing), as Spark's year, month,
    dayofweek (1 = Sunday), dayofyear and hour give it."""
    days = instants.astype("datetime64[D]")
    if part == "year":
        value = days.astype("datetime64[Y]").astype(np.int64) + 1970
    elif part == "month":
        value = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    elif part == "day_of_week":
        value = (days.astype(np.int64) + 4) % 7 + 1  # 1970-01-01, day 0, was a Thursday (5)
    elif part == "day_of_year":
        value = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1
    else:
        value = (instants - days.astype("datetime64[us]")).astype("timedelta64[h]").astype(np.int64)
    return np.where(np.isnat(instants), np.nan, value.astype(np.float64))
