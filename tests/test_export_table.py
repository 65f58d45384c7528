"""A table's model scored without Spark predicts what the Spark pipeline predicts, on the user's raw
rows: a messy CSV made here with pandas (a string label with a rare class, a string feature with
nulls and a value never seen in training, a numeric column with `NA` and NaN, a boolean, a date and
a timestamp), read by `prepared_table` as a sweep reads it, fitted by real Spark trees and forests.

The feature vector itself is compared too (Spark's `features` against `treescore`'s `encode`, every
value exactly): a wrong fill, category index or day of week fails there even where a tree happens
not to split on the value. Regression predictions are compared exactly (bit for bit), class
probabilities within 1e-9.
"""

import datetime as dt
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from pyspark.ml import PipelineModel
from pyspark.ml.classification import DecisionTreeClassifier, RandomForestClassifier
from pyspark.ml.feature import SQLTransformer
from pyspark.ml.functions import vector_to_array
from pyspark.ml.regression import DecisionTreeRegressor, RandomForestRegressor

from sweep import export
from sweep.config import DataSettings
from sweep.data.sources.table import read
from sweep.data.sources.table_prepare import example, prepared_table
from sweep.data.spec import (
    PREDICTED_LABEL,
    DatasetSpec,
    label_key,
    stages_after,
    stages_before,
)
from sweep.errors import UnsupportedModel
from sweep.parity import parity
from sweep.tracking.artifacts import ArtifactWriter
from sweep.treescore import FORMAT_TABLE, PyfuncModel, Scorer, encode, format_of, load

pytestmark = pytest.mark.slow

ESTIMATORS = {
    "dtree": (DecisionTreeClassifier, {"maxDepth": 8}),
    "forest": (RandomForestClassifier, {"numTrees": 7, "maxDepth": 6}),
    "dtree_regressor": (DecisionTreeRegressor, {"maxDepth": 8}),
    "forest_regressor": (RandomForestRegressor, {"numTrees": 7, "maxDepth": 6}),
}
ISLANDS = ("Biscoe", "Dream", "Torgersen", "Shetland")


def penguins(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """Messy rows whose label depends on every kind of column, so the trees split on all of them:
    Gentoo on weekends (day of week) and for long bills (longer for females); Chinstrap (rare,
    ~4 %) on Dream before 5 in the morning UTC; else Adelie."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    hour = rng.integers(0, 24, n)
    island = rng.choice(ISLANDS, n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    bill = np.round(rng.normal(44, 6, n), 1)
    male = rng.random(n) < 0.5
    weekend = np.asarray(day.dayofweek >= 5)
    species = np.where(weekend | (bill + 4 * male > 52), "Gentoo", "Adelie")
    species = np.where((island == "Dream") & (hour < 5) & ~weekend, "Chinstrap", species)
    frame = pd.DataFrame(
        {
            "species": species,
            "island": island,
            "bill_length": bill,
            "body_mass": (3000 + 30 * bill + 400 * male + 50 * weekend).astype(np.int64),
            "male": male,
            "observed": day.strftime("%Y-%m-%d"),
            "tagged_at": (day + pd.to_timedelta(hour, unit="h")).strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    frame["male"] = frame["male"].map({True: "true", False: "false"}).astype(object)
    for column, share in (("island", 0.1), ("bill_length", 0.1), ("male", 0.05)):
        frame.loc[rng.random(n) < share, column] = None
    frame.loc[rng.random(n) < 0.03, "observed"] = None
    frame.loc[rng.random(n) < 0.03, "tagged_at"] = None
    return frame


@pytest.fixture(scope="module")
def utc(spark):
    """The session in UTC, so that `toPandas` hands timestamps over as their UTC wall clock (the
    scorer reads a timestamp without an offset as UTC); `parity` is tested in another zone."""
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    yield spark
    spark.conf.set("spark.sql.session.timeZone", before)


def write_csv(frame: pd.DataFrame, path) -> str:
    """As a user exports it: `NA` for a missing bill length, `NaN` text once, else empty cells."""
    out = frame.astype(object).where(frame.notna(), "")
    out["bill_length"] = out["bill_length"].replace("", "NA")
    out.loc[out.index[:3], "bill_length"] = "NaN"
    out.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def table(utc, tmp_path_factory):
    """(settings, prepared data) for the classification table."""
    path = write_csv(penguins(), tmp_path_factory.mktemp("table") / "penguins.csv")
    cfg = DataSettings(source="table", path=path, label="species", name="penguins")
    with prepared_table(utc, cfg) as data:
        yield cfg, data


def field(data, name):
    """`prepared_table` yields a dict here; main turns it into a TableData object."""
    return data[name] if isinstance(data, dict) else getattr(data, name)


def fitted(data, name: str, tmp_path, label: str = "label"):
    """The pipeline a sweep logs for a table, saved, and its exported trees."""
    spec, train = field(data, "spec"), field(data, "frames")[0]
    estimator, params = ESTIMATORS[name]
    bins = max(32, spec.min_bins())
    model = estimator(featuresCol="features", labelCol=label, maxBins=bins, seed=0, **params)
    pipeline = PipelineModel(stages=[*stages_before(spec), model.fit(train), *stages_after(spec)])
    pipeline.save(str(tmp_path / "sparkml"))
    return pipeline, export.from_saved_pipeline(tmp_path / "sparkml", spec)


@pytest.fixture(scope="module")
def table_fits(table, tmp_path_factory):
    """The classification table's pipelines, fitted once per estimator and shared by the tests
    that only read them (a fit, save and export is several Spark jobs): name → (pipeline, trees,
    saved folder). Each test still exports the saved folder itself where that is what it tests."""
    _, data = table
    fits = {}

    def get(name: str):
        if name not in fits:
            folder = tmp_path_factory.mktemp(f"fit-{name}")
            fits[name] = (*fitted(data, name, folder), folder / "sparkml")
        return fits[name]

    return get


@pytest.fixture(scope="module")
def table_scored(table, table_fits, utc):
    """`spark_side` of the table's raw rows (plus ODD) under each shared pipeline, computed once:
    name → (raw Spark frame, a copy of the scored pandas frame for the test to keep)."""
    cfg, _ = table
    raw = raw_rows(utc, cfg, ODD)
    scored = {}

    def get(name: str):
        if name not in scored:
            scored[name] = spark_side(table_fits(name)[0], raw)
        return raw, scored[name].copy()

    return get


def raw_rows(spark, cfg, odd: list[dict]):
    """Every row of the table as Spark types it (the test split and more), plus `odd` rows."""
    raw, _, _ = read(spark, cfg)
    extra = spark.createDataFrame(
        [tuple(row.get(f.name) for f in raw.schema.fields) for row in odd], raw.schema
    )
    return raw.unionByName(extra)


ODD = [
    {"island": "Atlantis"},  # unseen category; every other column missing
    {},  # every column missing
    {"island": "Dream", "bill_length": float("nan"), "male": False},
    {
        "island": "Biscoe",
        "bill_length": 50.0,
        "body_mass": 4000,
        "male": True,
        "observed": dt.date(2024, 3, 3),  # a Sunday
        "tagged_at": dt.datetime(2024, 3, 3, 4, 30),
    },
]


def spark_side(pipeline, raw):
    """The raw rows with Spark's vector, prediction, probability and label, in one frame."""
    out = pipeline.transform(raw)
    extra = [vector_to_array("probability").alias("_p")] if "probability" in out.columns else []
    extra += [PREDICTED_LABEL] if PREDICTED_LABEL in out.columns else []
    columns = [f"`{c}`" for c in raw.columns]
    return out.select(
        *columns, vector_to_array("features").alias("_x"), "prediction", *extra
    ).toPandas()


def test_the_scorer_computes_sparks_feature_vector_exactly(table, table_fits, table_scored):
    _, data = table
    spec = field(data, "spec")
    kinds = {f.kind for f in spec.features}
    assert kinds == {"numeric", "boolean", "categorical", "date"}, spec.features
    bill = next(f for f in spec.features if f.source == "bill_length")
    assert bill.fill not in (None, 0.0) and 40 < bill.fill < 50  # the training split's median
    island = next(f for f in spec.features if f.source == "island")
    assert "Shetland" in island.categories and "Atlantis" not in island.categories
    _, trees, _ = table_fits("dtree")
    _, scored = table_scored("dtree")
    x = encode(trees, scored[[n for n, _ in spec.inputs]])
    np.testing.assert_array_equal(x, np.stack(scored["_x"]))
    # The checks mean something: missing, unseen and weekend values are among the rows.
    assert (x[:, spec.feature_names().index("island")] == len(island.categories)).sum() > 50
    assert (x[:, spec.feature_names().index("bill_length")] == bill.fill).sum() > 50
    assert x[-1, spec.feature_names().index("observed_day_of_week")] == 1.0  # Sunday
    assert x[-1, spec.feature_names().index("tagged_at_hour")] == 4.0


@pytest.mark.parametrize("name", ["dtree", "forest"])
def test_a_classifier_returns_sparks_labels_on_raw_rows(table, table_fits, table_scored, name):
    _, data = table
    spec = field(data, "spec")
    assert spec.classes == ("Adelie", "Chinstrap", "Gentoo")
    _, trees, _ = table_fits(name)
    assert format_of(trees) == FORMAT_TABLE
    _, scored = table_scored(name)
    raw = scored[[n for n, _ in spec.inputs]]
    model = PyfuncModel(trees)
    labels = model.predict(raw)
    assert [label_key(v) for v in labels] == scored[PREDICTED_LABEL].tolist()
    assert set(labels) >= {"Adelie", "Gentoo"}, "the trees should predict more than one class"
    both = model.predict(raw, params={"output": "probability"})
    np.testing.assert_allclose(np.stack(both["probability"]), np.stack(scored["_p"]), atol=1e-9)
    one_by_one = [model.predict(raw.iloc[[i]])[0] for i in range(len(raw) - 6, len(raw))]
    assert one_by_one == list(labels[-6:])  # the small-request path, odd rows included


@pytest.fixture(scope="module")
def numbers(utc, tmp_path_factory):
    """A regression table (label: body mass, an integer with many values) and a binary one (label:
    0/1 integers), both from the same messy rows, as Parquet."""
    frame = penguins(seed=1)
    frame["bill_length"] = pd.to_numeric(frame["bill_length"])
    frame["male"] = frame["male"].map({"true": True, "false": False}).astype("boolean")
    observed = pd.to_datetime(frame["observed"])
    frame["observed"] = observed.dt.date.astype(object).where(observed.notna(), None)
    frame["tagged_at"] = pd.to_datetime(frame["tagged_at"])
    frame["gentoo"] = (frame["species"] == "Gentoo").astype(np.int64)
    path = tmp_path_factory.mktemp("numbers") / "penguins.parquet"
    frame.drop(columns=["species"]).to_parquet(path, index=False, coerce_timestamps="us")
    return str(path)


@pytest.mark.parametrize("name", ["dtree_regressor", "forest_regressor"])
def test_a_regressor_predicts_sparks_numbers_exactly(numbers, tmp_path, utc, name):
    cfg = DataSettings(source="table", path=numbers, label="body_mass", drop=["gentoo"])
    with prepared_table(utc, cfg) as data:
        spec = field(data, "spec")
        assert spec.task == "regression" and spec.classes is None
        pipeline, trees = fitted(data, name, tmp_path)
    scored = spark_side(pipeline, raw_rows(utc, cfg, ODD))
    prediction = PyfuncModel(trees).predict(scored[[n for n, _ in spec.inputs]])
    expected = scored["prediction"].to_numpy()
    assert prediction.dtype == np.float64 and len(np.unique(prediction)) > 10
    np.testing.assert_array_equal(prediction, expected)  # bit for bit, not within a tolerance
    with pytest.raises(Exception, match="must be one of \\['prediction'\\]"):
        PyfuncModel(trees).predict(scored.head(2), params={"output": "probability"})


def test_a_binary_integer_label_comes_back_as_integers(numbers, tmp_path, utc):
    cfg = DataSettings(source="table", path=numbers, label="gentoo", drop=["body_mass"])
    with prepared_table(utc, cfg) as data:
        spec = field(data, "spec")
        assert spec.classes == (0, 1) and spec.binary
        pipeline, trees = fitted(data, "forest", tmp_path)
    scored = spark_side(pipeline, raw_rows(utc, cfg, ODD))
    labels = PyfuncModel(trees).predict(scored[[n for n, _ in spec.inputs]])
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}
    assert [label_key(v) for v in labels] == scored[PREDICTED_LABEL].tolist()


def test_parity_agrees_on_every_row_in_any_session_time_zone(table, table_fits, utc):
    cfg, data = table
    pipeline, trees, _ = table_fits("forest")
    raw = raw_rows(utc, cfg, ODD)
    utc.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        result = parity(pipeline, raw, trees, label_col=cfg.label)
    finally:
        utc.conf.set("spark.sql.session.timeZone", "UTC")
    assert result.total == raw.count() and result.agree == result.total
    assert result.max_proba_diff <= 1e-9 and result.ok
    assert result.tag == f"{result.total}/{result.total}"
    _, other, _ = table_fits("dtree")  # another model's trees disagree
    assert not parity(pipeline, raw, other).ok


def test_a_pipeline_that_is_not_the_specs_is_refused(table, table_fits, tmp_path):
    _, data = table
    spec = field(data, "spec")
    pipeline, _, saved = table_fits("dtree")
    changed = SQLTransformer(statement=spec.statement().replace("coalesce(", "ifnull(", 1))
    PipelineModel(stages=[changed, *pipeline.stages[1:]]).save(str(tmp_path / "changed"))
    with pytest.raises(UnsupportedModel, match="not the dataset spec's statement"):
        export.from_saved_pipeline(tmp_path / "changed", spec)
    with pytest.raises(UnsupportedModel, match="needs its dataset spec"):
        export.from_saved_pipeline(saved)  # a table's pipeline without its spec
    assert Scorer(export.from_saved_pipeline(saved, spec)).trees.spec


def as_json_sends_it(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw rows as a JSON request carries them: dates and timestamps as ISO text."""
    out = frame.copy()
    out["observed"] = [None if v is None else v.isoformat() for v in out["observed"]]
    out["tagged_at"] = out["tagged_at"].dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
    return out


def test_a_logged_model_gives_the_users_labels_through_mlflow(
    table, table_fits, table_scored, tmp_path
):
    _, data = table
    spec = field(data, "spec")
    pipeline, _, _ = table_fits("dtree")
    raw, scored = table_scored("dtree")
    client = MlflowClient()
    run = client.create_run(client.create_experiment("penguins"))
    client.set_terminated(run.info.run_id)
    writer = ArtifactWriter()
    writer.client, writer.retry = client, None
    uri = writer.log_model(run.info.run_id, pipeline, example(raw, spec), spec)

    # A long column takes no nulls (MLflow's schema); body_mass had none in the table.
    scored = scored[scored["body_mass"].notna()].astype({"body_mass": "int64"})
    sent = as_json_sends_it(scored[[n for n, _ in spec.inputs]])
    labels = mlflow.pyfunc.load_model(uri).predict(sent)
    assert list(labels) == scored[PREDICTED_LABEL].tolist()  # string labels: as Spark's
    assert len(labels) > 900 and set(labels) >= {"Adelie", "Gentoo"}

    info = mlflow.models.get_model_info(uri)
    types = {c["name"]: c["type"] for c in info.signature.inputs.to_dict()}
    assert types == {"island": "string", "bill_length": "double", "body_mass": "long",
                     "male": "boolean", "observed": "string", "tagged_at": "string"}  # fmt: skip
    assert info.signature.outputs.to_dict() == [
        {"type": "string", "name": "prediction", "required": True}
    ]
    assert info.metadata["treescore"]["format"] == FORMAT_TABLE
    folder = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "model")))
    assert DatasetSpec.from_json((folder / "dataset_spec.json").read_text()) == spec
    assert json.loads(load(folder / "trees.npz").spec) == json.loads(json.dumps(spec.scorer()))
    code = sorted(p.name for p in (folder / "code" / "treescore").iterdir())
    assert code == ["__init__.py", "table.py"]
