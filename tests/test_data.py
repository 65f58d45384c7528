import pytest

from sweep.config import DataSettings
from sweep.data import covtype
from sweep.data.prepare import locate, prepared
from sweep.errors import DataError
from tests.conftest import SAMPLE_100K, requires


def test_prepared_splits_are_seeded_disjoint_and_cached(spark):
    cfg = DataSettings(source="synthetic", rows=2000, seed=3)
    with prepared(spark, cfg, progress=False) as a:
        counts_a = a.counts
        assert set(counts_a) == {"train", "validation", "test"} and sum(counts_a.values()) == 2000
        assert 0.75 < counts_a["train"] / 2000 < 0.85
        assert all(df.is_cached for df in (a.train, a.validation, a.test))
        assert a.train.columns == ["features", "label"]
        assert a.train.rdd.getNumPartitions() == 2
        assert list(a.example.columns) == covtype.FEATURES
        assert {str(t) for t in a.example.dtypes} == {"int64"}
        assert a.source == "synthetic(rows=2000, seed=3)" and len(a.sha256) == 64
        train_rows = sorted(tuple(r["features"]) for r in a.train.collect())
    assert not a.train.is_cached  # released on exit
    with prepared(spark, cfg, progress=False) as b:
        assert b.counts == counts_a
        assert sorted(tuple(r["features"]) for r in b.train.collect()) == train_rows


def test_an_empty_split_is_an_error(spark):
    cfg = DataSettings(source="synthetic", rows=100, split=[0.98, 0.01, 0.01])
    with (
        pytest.raises(DataError, match=r"data.split: the (validation|test) split is empty"),
        prepared(spark, cfg, progress=False),
    ):
        pass


def _touch(path):
    path.touch()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.data.gz", r"data.path: .*missing.data.gz does not exist"),
        (lambda p: p, r"data.path: .* is not a file.*not a directory"),
        (lambda p: _touch(p / "empty.data"), r"data.path: .*empty.data is empty"),
    ],
)
def test_bad_paths_fail_before_reading(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(DataError, match=message):
        locate(DataSettings(path=str(path)))


def test_remote_paths_pass_through_untouched():
    assert locate(DataSettings(path="hdfs://nn:8020/data/covtype.data.gz")) == (
        "hdfs://nn:8020/data/covtype.data.gz",
        None,
    )


@requires(SAMPLE_100K)
def test_real_sample_locates_with_its_published_checksum():
    path, sha = locate(DataSettings(path=str(SAMPLE_100K)))
    assert sha == "09565eeba60326cc3a8ce49de619a0e883c02e0bda28150f1b185b4bb34e295c"
