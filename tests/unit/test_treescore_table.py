"""Format 3 without Spark: each rule of a table's spec, value by value (fills, booleans, categories
as Spark writes them as text, date parts, time zones), the user's labels, regression, the file.

Agreement with Spark itself on fitted pipelines is tests/test_export_table.py's job.
"""

import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sweep import treescore
from sweep.data.spec import DatasetSpec, Feature
from sweep.treescore import FOREST_REGRESSOR, TREE_REGRESSOR, PyfuncModel, table
from tests.unit.test_treescore import STUMP, make

FILL = 7.25


def spec_of(*features, inputs, task="classification", classes=("x", "y", "z")) -> DatasetSpec:
    return DatasetSpec("t", "label", task, classes, tuple(inputs), tuple(features))


def encoded(feature: Feature, spark_type: str, values: list) -> list[float]:
    spec = spec_of(feature, inputs=[(feature.source, spark_type)])
    rules = table.parse(json.dumps(spec.scorer()))
    return table.encode(rules, pd.DataFrame({feature.source: values})).ravel().tolist()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.5, -2.0, np.inf], [1.5, -2.0, np.inf]),
        ([None, np.nan, pd.NA], [FILL] * 3),
        (["NA", " nan ", "", "null", " 2 "], [FILL, FILL, FILL, FILL, 2.0]),
        ([3, None], [3.0, FILL]),
        (pd.array([3, None], dtype="Int64"), [3.0, FILL]),
        (pd.array([True, None], dtype="boolean"), [1.0, FILL]),
    ],
)
def test_a_missing_number_is_the_fill(values, expected):
    feature = Feature("n", "n", "numeric", fill=FILL)
    assert encoded(feature, "double", values) == expected


def test_a_fill_of_zero_is_kept_and_a_float_column_is_read_as_float32():
    spec = spec_of(Feature("n", "n", "numeric", fill=0.0), inputs=[("n", "float")])
    assert spec.scorer()["features"][0]["fill"] == 0.0  # `0.0 in (False,)` once dropped it
    rules = table.parse(json.dumps(spec.scorer()))
    x = table.encode(rules, pd.DataFrame({"n": [0.1, None]}))
    assert x.ravel().tolist() == [float(np.float32(0.1)), 0.0]


def test_booleans_read_as_spark_casts_them():
    feature = Feature("b", "b", "boolean", fill=FILL)
    values = [True, False, None, "true", " FALSE ", "yes", "n", 1, 0, np.bool_(True), "NA"]
    expected = [1.0, 0.0, FILL, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, FILL]
    assert encoded(feature, "boolean", values) == expected
    with pytest.raises(ValueError, match="'b': 'maybe' is not a boolean"):
        encoded(feature, "boolean", ["maybe"])


def test_a_category_is_looked_up_as_sparks_text_and_the_rest_is_one_index_after():
    feature = Feature("c", "c", "categorical", categories=("b", "a", "true", "3", "1.0E7"))
    values = ["a", "b", None, np.nan, "zzz", "A", True, 3, 1e7, " a"]
    assert encoded(feature, "string", values) == [1, 0, 5, 5, 5, 5, 2, 3, 4, 5]


SUNDAY, SATURDAY = "2024-03-03", "2024-03-09"


@pytest.mark.parametrize(
    ("part", "values", "expected"),
    [
        ("day_of_week", [SUNDAY, SATURDAY, "2024-03-04", "1969-12-31"], [1, 7, 2, 4]),
        ("day_of_year", [SUNDAY, "2024-12-31", "2023-12-31", None], [63, 366, 365, FILL]),
        ("month", [SUNDAY, "NA", dt.date(2020, 11, 5)], [3, FILL, 11]),
        ("year", [SUNDAY, "2024-03-04T23:59:00+05:00", pd.NaT], [2024, 2024, FILL]),
        # A date column takes the date as written, whatever time or offset follows.
        ("day_of_week", ["2024-03-03T23:30:00-05:00", "2024-03-03 01:00"], [1, 1]),
    ],
)
def test_a_date_part_is_sparks(part, values, expected):
    feature = Feature(f"d_{part}", "d", "date", fill=FILL, part=part)
    assert encoded(feature, "date", values) == expected


@pytest.mark.parametrize(
    ("values", "hour", "day_of_week"),
    [
        (["2024-03-03T23:30:00"], 23, 1),  # no offset: UTC
        (["2024-03-03T23:30:00-05:00"], 4, 2),  # Monday 04:30 in UTC
        (pd.to_datetime(["2024-03-03T23:30:00"]), 23, 1),
        (pd.to_datetime(["2024-03-03T23:30:00"]).tz_localize("America/New_York"), 4, 2),
        ([dt.datetime(2024, 3, 3, 23, 30)], 23, 1),
    ],
)
def test_a_timestamp_is_read_in_utc(values, hour, day_of_week):
    features = [
        Feature(f"t_{p}", "t", "date", fill=FILL, part=p, timestamp=True)
        for p in ("hour", "day_of_week")
    ]
    spec = spec_of(*features, inputs=[("t", "timestamp")])
    rules = table.parse(json.dumps(spec.scorer()))
    assert table.encode(rules, pd.DataFrame({"t": values})).tolist() == [[hour, day_of_week]]


def table_trees(spec: DatasetSpec, trees=STUMP) -> treescore.Trees:
    return replace(trees, columns=tuple(spec.columns()), spec=json.dumps(spec.scorer()))


NUMERIC = (Feature("a", "a", "numeric", fill=9.0), Feature("b", "b", "numeric", fill=0.0))
INPUTS = [("a", "double"), ("b", "double")]


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (("Adelie", "Gentoo", "Chinstrap"), ["Gentoo", "Chinstrap", "Chinstrap"]),
        ((False, True, None), [True, None, None]),  # mixed: as they are, in an object array
        ((1, 2, 3), [2, 3, 3]),
    ],
)
def test_the_pyfunc_returns_the_users_labels(classes, expected):
    trees = table_trees(spec_of(*NUMERIC, inputs=INPUTS, classes=classes))
    frame = pd.DataFrame({"b": [0, 0, 0], "a": [1.0, 4.0, None], "other": ["x", "y", "z"]})
    labels = PyfuncModel(trees).predict(frame)  # by name, extra column ignored, None → fill 9
    assert labels.tolist() == expected
    both = PyfuncModel(trees).predict(frame, params={"output": "probability"})
    assert both["prediction"].tolist() == expected and len(both["probability"][0]) == 3
    with pytest.raises(ValueError, match="missing input column.s.: a"):
        PyfuncModel(trees).predict(frame.drop(columns="a"))


def test_integer_labels_come_back_as_integers():
    trees = table_trees(spec_of(*NUMERIC, inputs=INPUTS, classes=(0, 1, 2)))
    labels = PyfuncModel(trees).predict([{"a": 1.0, "b": 0.0}])
    assert labels.dtype == np.int64 and labels.tolist() == [1]


def regression_forest(values) -> treescore.Trees:
    """Three stumps on `a` (≤ 2.5 left): leaf values `values[t]` = (left, right) of tree t."""
    trees = make(
        kind=FOREST_REGRESSOR,
        roots=(0, 3, 6),
        feature=[0, -1, -1] * 3,
        threshold=[2.5, np.nan, np.nan] * 3,
        left=[1, -1, -1, 4, -1, -1, 7, -1, -1],
        right=[2, -1, -1, 5, -1, -1, 8, -1, -1],
        counts=np.zeros((9, 3)),
    )
    node_values = np.array([v for left, right in values for v in (0.0, left, right)])
    spec = spec_of(*NUMERIC, inputs=INPUTS, task="regression", classes=None)
    return replace(table_trees(spec, trees), num_classes=0, counts=np.zeros((9, 0)),
                   values=node_values)  # fmt: skip


def test_a_regression_forest_adds_its_trees_in_order_then_divides():
    trees = regression_forest([(0.1, 5.0), (0.2, 6.0), (0.3, 7.0)])
    prediction = PyfuncModel(trees).predict(pd.DataFrame({"a": [1.0, 3.0], "b": [0.0, 0.0]}))
    assert prediction.tolist() == [((0.1 + 0.2) + 0.3) / 3, ((5.0 + 6.0) + 7.0) / 3]
    assert ((0.1 + 0.2) + 0.3) / 3 != (0.1 + (0.2 + 0.3)) / 3  # the order is visible
    many = pd.DataFrame({"a": [1.0, 3.0] * 10, "b": 0.0})  # the vectorised path too
    assert PyfuncModel(trees).predict(many).tolist() == prediction.tolist() * 10
    with pytest.raises(Exception, match="must be one of \\['prediction'\\]"):
        PyfuncModel(trees).predict(many, params={"output": "probability"})


def test_a_regression_tree_predicts_its_leaf_value():
    forest = regression_forest([(0.1, 5.0)] * 3)
    tree = replace(
        forest, kind=TREE_REGRESSOR, roots=forest.roots[:1], **{
            k: getattr(forest, k)[:3]
            for k in ("feature", "threshold", "left", "right", "category_set", "values")
        },
        counts=np.zeros((3, 0)),
    )  # fmt: skip
    assert PyfuncModel(tree).predict(pd.DataFrame({"a": [1.0, 3.0], "b": 0})).tolist() == [0.1, 5.0]


def test_format_3_round_trips_and_is_checked(tmp_path):
    trees = regression_forest([(0.1, 5.0), (0.2, 6.0), (0.3, 7.0)])
    treescore.save(trees, tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as f:
        assert str(f["format"]) == treescore.FORMAT_TABLE and f["spec"].dtype.kind == "U"
    loaded = treescore.load(tmp_path / "t.npz")
    assert loaded.spec == trees.spec and np.array_equal(loaded.values, trees.values)
    assert treescore.inputs(loaded) == ("a", "b")
    with pytest.raises(ValueError, match="a regressor needs values"):
        treescore.check(replace(trees, spec=""))
    no_fill = json.loads(trees.spec)
    del no_fill["features"][1]["fill"]
    with pytest.raises(ValueError, match="feature 1 .* no known kind, source, fill or part"):
        treescore.check(replace(trees, spec=json.dumps(no_fill)))
    with pytest.raises(ValueError, match="the spec has 2 features, the trees 3"):
        treescore.check(replace(trees, columns=("_f0", "_f1", "_f2")))
