import gzip

import pytest

from sweep.data import covtype
from sweep.errors import DataError

GOOD_ROW = (
    "2596,51,3,258,0,510,221,232,148,6279,"
    + ",".join(["1", "0", "0", "0"] + ["0"] * 28 + ["1"] + ["0"] * 11)
    + ",5"
)


def write(tmp_path, lines, name="covtype.data", gz=False):
    path = tmp_path / (name + (".gz" if gz else ""))
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def rows(n, label=5):
    return [
        GOOD_ROW[: GOOD_ROW.rindex(",")] + f",{(i % 7) + 1 if label is None else label}"
        for i in range(n)
    ]


def test_good_row_has_the_uci_shape():
    assert len(GOOD_ROW.split(",")) == 55 == len(covtype.COLUMNS)
    assert covtype.COLUMNS[:2] == ["Elevation", "Aspect"] and covtype.COLUMNS[-1] == "Cover_Type"
    assert covtype.WILDERNESS[0] == "Wilderness_Area_0" and covtype.SOIL[-1] == "Soil_Type_39"


@pytest.mark.parametrize(
    ("name", "gz"), [("covtype.data", False), ("covtype.data", True), ("covtype.csv", False)]
)
def test_reads_plain_gzip_and_csv_into_typed_columns(spark, tmp_path, name, gz):
    path = write(tmp_path, rows(20, label=None), name=name, gz=gz)
    df = covtype.read(spark, str(path), partitions=2)
    try:
        assert df.columns == covtype.COLUMNS
        assert {f.dataType.simpleString() for f in df.schema.fields} == {"int"}
        assert df.count() == 20 and df.rdd.getNumPartitions() == 2
        first = df.orderBy("Cover_Type").first()
        assert (first["Elevation"], first["Soil_Type_28"], first["Cover_Type"]) == (2596, 1, 1)
    finally:
        df.unpersist()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (GOOD_ROW.rsplit(",", 1)[0], r"1 of 11 rows .* has 54 fields, expected 55"),
        (GOOD_ROW + ",7", r"has 56 fields, expected 55"),
        (GOOD_ROW.replace("2596", "2596.5"), r"has a field that is not an integer"),
        (GOOD_ROW.replace("2596", "abc"), r"not an integer: '2596|not an integer: 'abc"),
        (GOOD_ROW[: GOOD_ROW.rindex(",")] + ",0", r"has Cover_Type 0, expected 1..7"),
        (GOOD_ROW[: GOOD_ROW.rindex(",")] + ",8", r"has Cover_Type 8, expected 1..7"),
        (",".join(covtype.COLUMNS), r"not an integer: 'Elevation,Aspect"),
    ],
)
def test_malformed_rows_are_an_error_with_count_and_first_bad_line(
    spark, tmp_path, bad_line, message
):
    path = write(tmp_path, [bad_line, *rows(10)])
    with pytest.raises(DataError, match=message) as info:
        covtype.read(spark, str(path), partitions=2)
    assert info.value.where == "data.path"


def test_counts_every_bad_row(spark, tmp_path):
    path = write(tmp_path, [*rows(5), *rows(3, label=9), *rows(5)])
    with pytest.raises(DataError, match=r"3 of 13 rows"):
        covtype.read(spark, str(path), partitions=2)


def test_blank_lines_are_skipped_but_an_all_blank_file_is_empty(spark, tmp_path):
    assert covtype.read(spark, str(write(tmp_path, ["", *rows(3), ""])), 1).count() == 3
    with pytest.raises(DataError, match="holds no data rows"):
        covtype.read(spark, str(write(tmp_path, ["", "  "], name="blank.data")), 1)


def test_truncated_gzip_is_a_clear_error(spark, tmp_path):
    path = write(tmp_path, rows(5000), gz=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cannot read .*covtype.data.gz.*complete"):
        covtype.read(spark, str(path), partitions=2)


def test_synthetic_data_is_deterministic_and_covtype_shaped():
    a, b, c = covtype.synthesize(500, 1), covtype.synthesize(500, 1), covtype.synthesize(500, 2)
    assert list(a.columns) == covtype.COLUMNS and len(a) == 500
    assert a.equals(b) and not a.equals(c)
    assert covtype.fingerprint(a) == covtype.fingerprint(b) != covtype.fingerprint(c)
    assert set(a["Cover_Type"]) == set(range(1, 8))
    assert (a[covtype.WILDERNESS].sum(axis=1) == 1).all()
    assert (a[covtype.SOIL].sum(axis=1) == 1).all()
    assert a["Elevation"].between(1859, 3858).all()
