"""The logged model's signature: Covtype's 54 longs, or a table's raw columns and labels."""

import pytest

from sweep.data.spec import ColumnProfile, DatasetSpec, Feature
from sweep.tracking.servable import input_type, label_type, signature


@pytest.mark.parametrize(
    ("spark_type", "has_missing", "expected"),
    [
        ("bigint", False, "long"),
        ("int", False, "long"),
        ("bigint", True, "double"),  # a null makes pandas hold the column as floats
        ("double", False, "double"),
        ("float", True, "double"),
        ("decimal(10,2)", False, "double"),
        ("boolean", True, "boolean"),
        ("string", False, "string"),
        ("date", False, "string"),
        ("timestamp", False, "string"),
        ("timestamp_ntz", False, "string"),
    ],
)
def test_a_raw_columns_type(spark_type, has_missing, expected):
    assert input_type(spark_type, has_missing) == expected


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (("Adelie", "Gentoo"), "string"),
        ((False, True), "boolean"),
        ((0, 1), "long"),
        ((0.5, 1.5), "double"),
        (None, "double"),
    ],
)
def test_the_labels_type(classes, expected):
    assert label_type(classes) == expected


def spec(task, classes):
    features = (Feature("n", "n", "numeric", fill=1.0), Feature("c", "c", "categorical"))
    profile = (ColumnProfile("n", "bigint", "numeric", 10, 0.25),)
    inputs = (("n", "bigint"), ("c", "string"))
    return DatasetSpec("t", "y", task, classes, inputs, features, profile)


def test_a_tables_signature_is_its_raw_columns():
    found = signature(["ignored"], spec("classification", ("a", "b")))
    assert found.inputs.to_dict() == [
        {"type": "double", "name": "n", "required": True},  # missing in the table
        {"type": "string", "name": "c", "required": True},
    ]
    assert found.outputs.to_dict() == [{"type": "string", "name": "prediction", "required": True}]
    assert found.params is not None
    regression = signature(["ignored"], spec("regression", None))
    assert regression.outputs.to_dict()[0]["type"] == "double" and regression.params is None


def test_covtype_keeps_its_signature():
    found = signature(["a", "b"])
    assert [c["type"] for c in found.inputs.to_dict()] == ["long", "long"]
    assert found.outputs.to_dict()[0]["type"] == "double"
