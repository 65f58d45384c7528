"""The column rules of a table, one row each (pure: types and statistics in, roles out)."""

import pytest

from sweep.data.names import dataset_name
from sweep.data.roles import ColumnStats, ordered_classes, role_of, task_of, task_problem


def stats(missing=0, distinct=10, rows=100):
    return ColumnStats(rows, missing, distinct)


@pytest.mark.parametrize(
    ("spark_type", "column", "role", "note"),
    [
        ("int", stats(), "numeric", ""),
        ("bigint", stats(missing=30), "numeric", ""),
        ("double", stats(), "numeric", ""),
        ("decimal(10,2)", stats(), "numeric", ""),
        ("boolean", stats(distinct=2), "boolean", ""),
        ("string", stats(distinct=256), "categorical", ""),
        ("string", stats(distinct=257), "dropped", "257 distinct values, more than"),
        ("date", stats(), "date", "parts: year, month, day_of_week, day_of_year"),
        ("timestamp", stats(), "date", "day_of_year, hour"),
        ("timestamp_ntz", stats(), "date", "hour"),
        ("binary", stats(), "dropped", "binary columns are not features"),
        ("array<int>", stats(), "dropped", "array columns are not features"),
        ("struct<a:int>", stats(), "dropped", "struct columns"),
        ("map<string,int>", stats(), "dropped", "map columns"),
        ("int", stats(distinct=1), "dropped", "one value only"),
        ("string", stats(missing=100, distinct=0), "dropped", "entirely missing"),
    ],
)
def test_each_type_gets_its_role(spark_type, column, role, note):
    got_role, got_note = role_of(spark_type, column, max_categories=256)
    assert got_role == role
    assert note in got_note


@pytest.mark.parametrize(
    ("requested", "label_type", "distinct", "task"),
    [
        ("auto", "string", 3, "classification"),
        ("auto", "boolean", 2, "classification"),
        ("auto", "int", 7, "classification"),
        ("auto", "bigint", 20, "classification"),
        ("auto", "bigint", 21, "regression"),
        ("auto", "double", 3, "regression"),  # a float label is a quantity
        ("regression", "int", 3, "regression"),
        ("classification", "double", 50, "classification"),
    ],
)
def test_auto_task_rule(requested, label_type, distinct, task):
    assert task_of(requested, label_type, distinct) == task


@pytest.mark.parametrize(
    ("task", "label_type", "distinct", "problem"),
    [
        ("regression", "string", 5, "needs a numeric label; it is string"),
        ("classification", "string", 1, "1 distinct value: nothing to learn"),
        ("classification", "bigint", 5000, "too many classes"),
        ("regression", "double", 100, None),
    ],
)
def test_labels_that_cannot_be_learned(task, label_type, distinct, problem):
    found = task_problem(task, label_type, distinct)
    assert (found is None) if problem is None else (problem in found)


def test_classes_are_ordered_numbers_first_then_text():
    assert ordered_classes(["b", "a", "c"]) == ("a", "b", "c")
    assert ordered_classes([10, 2, 1]) == (1, 2, 10)
    assert ordered_classes([True, False]) == (False, True)


@pytest.mark.parametrize(
    ("path", "table", "name"),
    [
        ("churn.parquet", None, "churn"),
        ("/data/churn.csv.gz", None, "churn"),
        ("/data/churn/", None, "churn"),
        ("s3a://bucket/sales/churn.snappy.parquet", None, "churn"),
        (None, "sales.churn", "churn"),
        ("penguins.v2.csv", None, "penguins.v2"),
    ],
)
def test_a_tables_name_gives_its_experiment_and_model(path, table, name):
    assert dataset_name(path, table) == name
