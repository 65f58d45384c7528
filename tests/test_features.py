"""data.features=onehot|categorical (sweep/data/features.py): the checks before any fit (pure), the
encoded vectors and what a tree learns from them, the logged pipeline on the 54 raw columns, the
Parquet cache per encoding, and one CLI sweep. Scorer agreement is in tests/test_export.py."""

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.functions import vector_to_array

from sweep import export
from sweep.config import DataSettings, ModelSettings, ParamSpec
from sweep.data import covtype, parquet_cache
from sweep.data import features as encodings
from sweep.data.prepare import FEATURES_COL, prepared
from sweep.errors import ConfigError, DataError
from sweep.trial import run_trial
from tests.conftest import SMOKE
from tests.helpers import all_runs
from tests.helpers import run_cli as sweep
from tests.test_parquet_cache import covtype_file, settings

CATEGORICAL = ("data.features=categorical", "search.max_bins.low=40")


# -- pure: the checks before any fit ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "spec", "message"),
    [
        ("onehot", ParamSpec("int", 8, 64), None),
        ("onehot", None, None),
        ("categorical", ParamSpec("int", 40, 300), None),
        ("categorical", ParamSpec("int", 40, 40), None),  # pinned
        ("categorical", ParamSpec("choice", values=[40, 64]), None),
        ("categorical", ParamSpec("int", 39, 300), r"search.max_bins.low: 39 is below 40"),
        ("categorical", ParamSpec("int", 16, 512, log=True), r"search.max_bins.low: 16 is below"),
        ("categorical", ParamSpec("choice", values=[64, 32]), r"search.max_bins.values: 32 is"),
        ("categorical", None, r"search.max_bins: is not searched, so trees get Spark's default 32"),
    ],
)
def test_max_bins_below_the_largest_category_count_is_refused(encoding, spec, message):
    if message is None:
        encodings.check_search_bins(encoding, spec)
        return
    with pytest.raises(ConfigError, match=message) as raised:
        encodings.check_search_bins(encoding, spec)
    assert "search.max_bins.low=40" in str(raised.value)  # says how to fix it


def test_bad_max_bins_and_bad_encoding_fail_in_the_config(compose_cfg):
    with pytest.raises(ConfigError, match=r"search.max_bins.low: 8 is below 40"):
        compose_cfg(*SMOKE, "data.features=categorical")  # smoke searches 8..64 bins
    with pytest.raises(ConfigError, match=r"data.features: 'ordinal' is not valid\. Use one of "):
        compose_cfg(*SMOKE, "data.features=ordinal")
    assert compose_cfg(*SMOKE).data.features == "onehot"  # the default
    assert compose_cfg(*SMOKE, *CATEGORICAL).data.features == "categorical"


def test_the_statement_is_recognised_exactly():
    sql = encodings.statement(encodings.GROUPS)
    assert encodings.groups_of(sql) == encodings.GROUPS
    assert encodings.groups_of(sql.replace("v != 0", "v > 0")) is None
    assert encodings.groups_of(sql + " WHERE Elevation > 0") is None
    assert encodings.groups_of("SELECT * FROM __THIS__") is None


def test_raw_rows_invert_the_encoding():
    vectors = np.array([[7] * 10 + [3, 0], [1] * 10 + [0, 39]], dtype=float)
    raw = encodings.raw_rows(vectors, "categorical")
    assert list(raw.columns) == covtype.FEATURES and (raw.dtypes == "int64").all()
    assert raw[covtype.WILDERNESS].to_numpy().argmax(1).tolist() == [3, 0]
    assert raw[covtype.SOIL].to_numpy().argmax(1).tolist() == [0, 39]
    assert raw[covtype.WILDERNESS + covtype.SOIL].sum(axis=1).tolist() == [2, 2]


# -- Spark: the encoded splits and what a tree learns ----------------------------------------------


@pytest.fixture(scope="module")
def categorical(spark):
    cfg = DataSettings(source="synthetic", rows=6000, features="onehot")
    with prepared(spark, cfg, False, features="categorical") as data:  # the argument wins
        yield data


def test_the_vector_carries_two_nominal_features(categorical):
    assert categorical.features == "categorical"
    attrs = categorical.train.schema[FEATURES_COL].metadata["ml_attr"]
    assert attrs["num_attrs"] == 12
    assert attrs["attrs"]["nominal"] == [
        {"idx": 10, "name": "Wilderness", "num_vals": 4},
        {"idx": 11, "name": "Soil", "num_vals": 40},
    ]
    assert [a["name"] for a in attrs["attrs"]["numeric"]] == covtype.NUMERIC
    assert list(categorical.example.columns) == covtype.FEATURES  # raw columns for the signature


def test_both_encodings_split_the_same_rows(spark, categorical):
    cfg = DataSettings(source="synthetic", rows=6000)
    with prepared(spark, cfg, False) as onehot:
        assert onehot.counts == categorical.counts
        assert onehot.example.equals(categorical.example)
        assert (
            onehot.train.schema[FEATURES_COL]
            .metadata.get("ml_attr", {})
            .get("attrs", {})
            .get("nominal")
            is None
        )


def test_a_tree_splits_on_a_set_of_categories(categorical, tmp_path):
    result = run_trial(
        categorical.train,
        categorical.validation,
        {"maxDepth": 6, "maxBins": 40},
        ModelSettings(),
        features="categorical",
    )
    assert list(result.importances)[-2:] == ["Wilderness", "Soil"]
    result.pipeline().save(str(tmp_path / "model"))
    trees = export.from_saved_pipeline(tmp_path / "model")
    sets = [
        set(np.flatnonzero(trees.left_categories[c, : trees.num_categories[c]]).tolist())
        for c in trees.category_set[trees.feature == 10]
        if c >= 0
    ]
    # The synthetic label moves with wilderness area 3: areas 0, 1 and 2 go one way together.
    assert any(s in ({0, 1, 2}, {3}) for s in sets), sets
    assert result.metrics["accuracy"] > 0.8


def test_the_pipeline_takes_the_54_raw_columns(spark, categorical):
    result = run_trial(
        categorical.train, categorical.validation, {"maxDepth": 5, "maxBins": 48}, ModelSettings(),
        features="categorical",
    )  # fmt: skip
    pipeline = result.pipeline()
    kinds = [type(s).__name__ for s in pipeline.stages]
    assert kinds == ["SQLTransformer", "VectorAssembler", "DecisionTreeClassificationModel"]
    scored = result.fitted.transform(categorical.test).select(
        vector_to_array(FEATURES_COL).alias("x"), "prediction"
    )
    expected = scored.toPandas()
    raw = encodings.raw_rows(np.stack(expected["x"]), "categorical")
    got = pipeline.transform(spark.createDataFrame(raw)).select("prediction").toPandas()
    assert len(got) == len(raw) > 100
    assert got["prediction"].tolist() == expected["prediction"].tolist()


def test_too_few_bins_for_a_trial_fail_before_the_fit(categorical):
    with pytest.raises(ConfigError, match=r"maxBins: 32 is below 40"):
        run_trial(categorical.train, categorical.validation, {"maxDepth": 3}, ModelSettings(),
                  features="categorical")  # fmt: skip


def test_rows_without_exactly_one_category_are_refused_for_training(spark):
    frame = covtype.synthesize(50, 3)
    frame.loc[7, covtype.SOIL] = 0  # no soil type
    frame.loc[9, "Wilderness_Area_0"] = 1 - frame.loc[9, "Wilderness_Area_0"]  # two or none
    raw = spark.createDataFrame(frame, schema=covtype.SCHEMA)
    encodings.check_rows(raw, "onehot", "test rows")  # one-hot takes them as they are
    with pytest.raises(DataError, match=r"data.features: 2 of 50 rows in test rows do not have"):
        encodings.check_rows(raw, "categorical", "test rows")


# -- the Parquet cache: one entry per encoding -----------------------------------------------------


def test_each_encoding_is_cached_once_in_its_own_entry(spark, tmp_path):
    cfg = settings(covtype_file(tmp_path), tmp_path)
    seen = {}
    for features in ("onehot", "categorical", "onehot", "categorical"):
        with prepared(spark, cfg, progress=False, features=features) as data:
            meta = data.train.schema[FEATURES_COL].metadata
            nominal = meta.get("ml_attr", {}).get("attrs", {}).get("nominal")
            first = data.train.select(vector_to_array(FEATURES_COL).alias("x")).first()["x"]
            seen.setdefault(features, []).append((data.cache, data.counts, len(first), nominal))
            sha256 = data.sha256
    assert [s[0] for s in seen["onehot"]] == ["stored", "read"]
    assert [s[0] for s in seen["categorical"]] == ["stored", "read"]
    assert {s[2] for s in seen["onehot"]} == {54} and {s[2] for s in seen["categorical"]} == {12}
    assert seen["categorical"][1][3] is not None  # the attributes survive the Parquet copy
    assert seen["onehot"][0][1] == seen["categorical"][1][1]
    folders = {parquet_cache.folder(cfg, sha256, f) for f in ("onehot", "categorical")}
    assert len(folders) == 2 and all(f.is_dir() for f in folders)
    assert parquet_cache.key(cfg, "x", "onehot") != parquet_cache.key(cfg, "x", "categorical")


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_categorical_sweep_logs_a_model_of_the_54_raw_columns(tmp_path, tracking_uri):
    import mlflow

    done = sweep(*SMOKE, *CATEGORICAL, "sweep.max_evals=2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    parent = next(r for r in all_runs(tracking_uri) if r.data.tags.get("sweep.role") == "parent")
    assert parent.data.params["features"] == "categorical"
    assert int(parent.data.params["best_maxBins"]) >= 40
    model = mlflow.pyfunc.load_model(parent.data.tags["sweep.best_model_uri"])
    assert model.metadata.metadata["treescore"]["format"] == "sweep.treescore/2"
    assert model.metadata.get_input_schema().input_names() == covtype.FEATURES
    raw = pd.DataFrame(covtype.synthesize(20, 9)[covtype.FEATURES]).astype("int64")
    labels = model.predict(raw)
    assert len(labels) == 20 and set(labels) <= set(range(1, 8))
