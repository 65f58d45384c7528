"""Owns the column rules of a table: which role each column plays (a feature of which kind, the
label, the split, or left out and why), which task a label means, and the order of its classes.
Pure: decided from Spark's type names and one pass of column statistics, so every rule is a row of a
table in the tests.

The rules (the README's "Your own data" says the same):
- numbers (integers, decimals, floats) and booleans are features as they are; missing values are
  filled with the training split's median;
- strings are categorical features, unless they hold more distinct values than
  `data.max_categories` (left out, with a warning naming the column and its cardinality);
- dates and timestamps become numeric parts: year, month, day of week and day of year (timestamps
  add the hour, in UTC);
- binary, arrays, maps and structs are left out with a warning; so is a column that is entirely
  missing or holds one value only (nothing to split on);
- `data.task=auto`: a string or boolean label, or an integer label with at most
  `MAX_AUTO_CLASSES` distinct values, is classification; anything else is regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sweep.data.spec import CLASSIFICATION, DATE_PARTS, REGRESSION, TIMESTAMP_PARTS, ColumnProfile

INTEGERS = ("tinyint", "smallint", "int", "bigint", "byte", "short", "long", "integer")
NUMBERS = (*INTEGERS, "float", "double", "real")
MAX_AUTO_CLASSES = 20  # an integer label with more distinct values is a regression target
MAX_CLASSES = 1000  # classification with more classes is refused


def base_type(spark_type: str) -> str:
    """`decimal(10,2)` → `decimal`, `array<int>` → `array`, `timestamp_ntz` → `timestamp`."""
    name = spark_type.split("(", 1)[0].split("<", 1)[0].strip().lower()
    return "timestamp" if name.startswith("timestamp") else name


def is_number(spark_type: str) -> bool:
    return base_type(spark_type) in (*NUMBERS, "decimal")


def is_integer(spark_type: str) -> bool:
    return base_type(spark_type) in INTEGERS or spark_type.lower() == "decimal(38,0)"


@dataclass(frozen=True)
class ColumnStats:
    """One pass over the table (rows with a label): per column, missing and distinct values."""

    rows: int
    missing: int
    distinct: int  # approximate above a few thousand


def role_of(spark_type: str, stats: ColumnStats, max_categories: int) -> tuple[str, str]:
    """(role, note): a feature kind (numeric, boolean, categorical, date) or `dropped` and why."""
    kind = base_type(spark_type)
    if stats.rows and stats.missing == stats.rows:
        return "dropped", "entirely missing"
    if kind in ("binary", "array", "map", "struct") or not _known(kind):
        return "dropped", f"{kind} columns are not features"
    if stats.distinct <= 1:
        return "dropped", "one value only"
    if is_number(spark_type):
        return "numeric", ""
    if kind == "boolean":
        return "boolean", ""
    if kind in ("date", "timestamp"):
        parts = TIMESTAMP_PARTS if kind == "timestamp" else DATE_PARTS
        return "date", "parts: " + ", ".join(parts)
    if stats.distinct > max_categories:
        return "dropped", (
            f"{stats.distinct:,} distinct values, more than data.max_categories={max_categories}"
        )
    return "categorical", ""


def _known(kind: str) -> bool:
    return kind in (*NUMBERS, "decimal", "boolean", "string", "varchar", "char", "date",
                    "timestamp")  # fmt: skip


def task_of(requested: str, label_type: str, distinct: int) -> str:
    """The task `data.task=auto` means for a label of this type and cardinality."""
    if requested != "auto":
        return requested
    kind = base_type(label_type)
    if kind in ("string", "varchar", "char", "boolean"):
        return CLASSIFICATION
    if is_integer(label_type) and distinct <= MAX_AUTO_CLASSES:
        return CLASSIFICATION
    return REGRESSION


def task_problem(task: str, label_type: str, distinct: int) -> str | None:
    """Why the label cannot be learned as `task`, or None."""
    kind = base_type(label_type)
    if task == REGRESSION and not is_number(label_type):
        return f"data.task=regression needs a numeric label; it is {kind}"
    if task == CLASSIFICATION and distinct > MAX_CLASSES:
        return f"it has {distinct:,} distinct values, too many classes (at most {MAX_CLASSES})"
    if distinct < 2:
        return f"it has {distinct} distinct value{'s' if distinct != 1 else ''}: nothing to learn"
    return None


def ordered_classes(values: list[Any]) -> tuple[Any, ...]:
    """The classes, index order: numbers ascending, False before True, strings alphabetical."""
    return tuple(sorted(values, key=lambda v: (isinstance(v, str), v)))


def profile_row(
    name: str, spark_type: str, role: str, stats: ColumnStats, note: str = ""
) -> ColumnProfile:
    missing = stats.missing / stats.rows if stats.rows else 0.0
    return ColumnProfile(name, spark_type, role, stats.distinct, round(missing, 6), note)
