"""data=table: any table Spark reads, any label; messy tables made here (tests/tables.py)."""

from __future__ import annotations

import gzip
import json

import pytest
from mlflow.tracking import MlflowClient

from sweep.config import DataSettings
from sweep.data.sources import table_prepare
from sweep.errors import DataError
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from tests import tables
from tests.helpers import children

QUICK = ("+experiment=smoke", "data=table", "sweep.max_evals=3", "data.partitions=2")


@pytest.fixture(scope="module")
def penguins_csv(tmp_path_factory):
    """A gzipped, `;`-separated CSV with `NA` for every missing value."""
    path = tmp_path_factory.mktemp("penguins") / "penguins.csv.gz"
    return tables.write_csv(tables.penguins(), path, sep=";")


def prepared(spark, **settings):
    return table_prepare.prepared_table(spark, DataSettings(source="table", name="t", **settings))


def test_columns_get_their_roles_decided_once(spark, penguins_csv):
    with prepared(spark, path=str(penguins_csv), label="species", options={"sep": ";"}) as got:
        spec = got.spec
        roles = {p.name: (p.type, p.role) for p in spec.profile}
        counts = got.counts
        by_split = [
            {r["label"]: r["count"] for r in f.groupBy("label").count().collect()}
            for f in got.frames
        ]
    assert roles == {
        "id": ("string", "dropped"),
        "species": ("string", "label"),
        "island": ("string", "categorical"),
        "bill_length_mm": ("double", "numeric"),  # `NA` did not make it text
        "flipper_length_mm": ("double", "numeric"),  # written as 217.0
        "tagged": ("boolean", "boolean"),
        "seen": ("date", "date"),
        "colony": ("string", "dropped"),
    }
    notes = " ".join(spec.notes)
    assert "'id' is left out" in notes and "more than data.max_categories=256" in notes
    assert "'colony' is left out: one value only" in notes
    assert spec.classes == ("Adelie", "Chinstrap", "Gentoo")
    frame = tables.penguins()
    assert spec.dropped_rows == frame["species"].isna().sum() > 0
    assert sum(counts.values()) == frame["species"].notna().sum()
    assert [len(s) for s in by_split] == [3, 3, 3]  # the rare class is in every split
    island = next(f for f in spec.features if f.name == "island")
    assert set(island.categories) == set(tables.ISLANDS)
    assert [f.name for f in spec.features if f.source == "seen"] == [
        "seen_year", "seen_month", "seen_day_of_week", "seen_day_of_year",
    ]  # fmt: skip


def test_fill_values_and_categories_come_from_the_training_split_only(spark, tmp_path):
    rows = [{"x": float(i), "c": "a" if i % 2 else "b", "y": i % 2, "part": "train"}
            for i in range(1, 11)]  # fmt: skip
    rows += [{"x": 1000.0 + i, "c": "only-in-test", "y": i % 2, "part": "test"} for i in range(6)]
    rows += [{"x": None, "c": None, "y": i % 2, "part": "validation"} for i in range(4)]
    path = tmp_path / "t.json"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with prepared(spark, path=str(path), label="y", split_column="part") as got:
        spec = got.spec
        validation = got.frames[1].collect()
    x = next(f for f in spec.features if f.name == "x")
    c = next(f for f in spec.features if f.name == "c")
    assert x.fill in (5.0, 6.0)  # the training median, untouched by the test split's 1000s
    assert set(c.categories) == {"a", "b"}  # no test-only value
    assert got.counts == {"train": 10, "validation": 4, "test": 6}
    # the vector is c, x (JSON columns come sorted): missing c → index 2, missing x → the fill
    assert {tuple(r["features"]) for r in validation} == {(2.0, x.fill)}


def test_stratified_split_keeps_a_three_row_class_in_every_split(spark, tmp_path):
    frame = tables.churn(rows=300)
    frame.loc[:2, "churned"] = 7  # three rows of a third class
    path = tmp_path / "c.parquet"
    frame.to_parquet(path)
    with prepared(spark, path=str(path), label="churned") as got:
        per_split = [f.filter("label = 2").count() for f in got.frames]
        assert got.spec.task == "classification" and got.spec.classes == (0, 1, 7)
    assert per_split == [1, 1, 1]


@pytest.mark.parametrize(
    ("make", "settings", "message"),
    [
        (None, {"path": "{tmp}/missing.csv"}, r"data.path: .*missing.csv does not exist"),
        ("x.weird", {}, r"cannot tell the format of .*x.weird.*data.format=csv"),
        ("t.csv", {"label": "Species"}, r"data.label: 'Species' is not a column of .*: a, b, y"),
        ("t.csv", {"drop": ["nope"]}, r"data.drop: 'nope' is not a column"),
        ("one.csv", {}, r"data.label: the label 'y' cannot be learned: it has 1 distinct value"),
        ("t.csv", {"task": "regression", "label": "b"}, r"data.task=regression needs a numeric"),
        ("t.csv", {"drop": ["a", "b"]}, r"no usable feature is left"),
        ("empty.csv", {}, r"is empty"),
        (
            "ragged.csv",
            {},
            r"1 of 3 rows in .*ragged.csv do not have the header's 3 fields; "
            r"the first: '4,5'",
        ),
        ("t.csv", {"split_column": "a"}, r"data.split_column: 3 rows have a a that is not train"),
        ("t.csv", {"format": "parquet"}, r"Spark cannot read .* as parquet"),
    ],
)
def test_a_bad_table_is_one_clear_error(spark, tmp_path, make, settings, message):
    files = {
        "x.weird": "a,y\n1,2\n",
        "t.csv": "a,b,y\n1,u,0\n2,v,1\n3,w,0\n",
        "one.csv": "a,y\n1,0\n2,0\n3,0\n",
        "empty.csv": "a,y\n",
        "ragged.csv": "a,b,y\n1,2,0\n4,5\n6,7,1\n",
    }
    if make:
        (tmp_path / make).write_text(files[make])
    path = settings.pop("path", str(tmp_path / (make or "")))
    settings = {"label": "y", **settings, "path": path.format(tmp=tmp_path)}
    with pytest.raises(DataError, match=message), prepared(spark, **settings):
        pass


def test_a_catalog_table_is_read_by_name(spark, compose_cfg, tmp_path):
    frame = spark.createDataFrame(tables.churn(rows=400))
    frame.write.mode("overwrite").option("path", str(tmp_path / "wh")).saveAsTable("churn_t")
    try:
        cfg = compose_cfg(*QUICK, "data.table=churn_t", "data.label=churned",
                          "tracking.log_models=none", "registry.enabled=false")  # fmt: skip
        result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    finally:
        spark.sql("DROP TABLE IF EXISTS churn_t")
    assert cfg.tracking.experiment == "churn_t-dtree"
    assert result.spec.binary and "areaUnderROC" in result.test_metrics
    assert len(result.finished) == 3


def test_no_such_catalog_table(spark):
    settings = DataSettings(source="table", table="nope", label="y")
    with (
        pytest.raises(DataError, match=r"data.table: Spark's catalog has no table 'nope'"),
        table_prepare.prepared_table(spark, settings),
    ):
        pass


def test_a_regression_sweep_minimises_rmse(spark, compose_cfg, tmp_path):
    folder = tmp_path / "houses"
    spark.createDataFrame(tables.houses()).repartition(3).write.parquet(str(folder))
    cfg = compose_cfg(*QUICK, f"data.path={folder}", "data.label=price",
                      "tracking.log_models=none", "registry.enabled=false")  # fmt: skip
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert result.metric == "rmse" and result.spec.task == "regression"
    rmses = [t.metrics["rmse"] for t in result.finished]
    assert result.best.metrics["rmse"] == min(rmses)
    assert set(result.test_metrics) == {"rmse", "mae", "r2"}
    client = MlflowClient(cfg.tracking.uri)
    parent = client.get_run(result.parent_run_id)
    assert parent.data.params["task"] == "regression"
    assert parent.data.params["metric_direction"] == "lower"
    trials = children(client, result.parent_run_id)
    assert {c.data.params["impurity"] for c in trials} == {"variance"}
    names = {a.path for a in client.list_artifacts(result.parent_run_id, "plots")}
    assert "plots/predicted_vs_actual.png" in names and "plots/confusion_matrix.png" not in names


def test_python_entry_point_takes_a_dataframe(spark, tracking_uri):
    import sweep

    frame = spark.createDataFrame(tables.houses(rows=400))
    result = sweep.run(
        frame,
        label="price",
        name="houses",
        overrides=[
            "+experiment=smoke",
            f"tracking.uri={tracking_uri}",
            "sweep.max_evals=2",
            "tracking.log_models=none",
            "registry.enabled=false",
            "sweep.progress_bar=false",
        ],  # fmt: skip
    )
    assert result.metric == "rmse" and result.validation_metrics["rmse"] > 0
    assert set(result.params) >= {"family", "maxDepth"}
    parent = MlflowClient(tracking_uri).get_run(result.parent_run_id)
    assert parent.data.params["data_source"].startswith("dataframe:")
    assert parent.data.tags.get("sweep.data_cache", "off") == "off"


def test_gzip_csv_is_read_with_its_header(penguins_csv):
    with gzip.open(penguins_csv, "rt") as f:
        assert f.readline().startswith("id;species;island")


def test_halving_on_a_regression_table_promotes_the_lowest_rmse(spark, compose_cfg, tmp_path):
    path = tmp_path / "houses.parquet"
    tables.houses().to_parquet(path)
    cfg = compose_cfg(*QUICK, f"data.path={path}", "data.label=price", "sweep.max_evals=3",
                      "sweep.scheduler=halving", "sweep.fidelity.min_fraction=0.3",
                      "tracking.log_models=none", "registry.enabled=false")  # fmt: skip
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    first = {t.config: t.metrics["rmse"] for t in result.trials if t.rung == 0}
    promoted = [t.config for t in result.trials if t.rung == 1]
    assert len(first) == 3 and promoted == [min(first, key=first.get)]  # lower is better
    assert result.best.rung == 1


def test_a_table_sweep_resumes_and_runs_trials_in_parallel(spark, compose_cfg, penguins_csv):
    common = (
        *QUICK,
        f"data.path={penguins_csv}",
        "data.label=species",
        "+data.options={sep:';'}",
        "tracking.log_models=none",
        "registry.enabled=false",
    )
    first = run_sweep(
        compose_cfg(*common, "sweep.max_evals=2", "sweep.parallelism=2"),
        spark,
        Tracker.connect(compose_cfg(*common).tracking),
    )
    cfg = compose_cfg(*common, "sweep.max_evals=3", f"sweep.resume={first.parent_run_id}")
    resumed = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert resumed.parent_run_id == first.parent_run_id
    assert sorted(t.number for t in resumed.trials) == [0, 1, 2]
    assert resumed.best.metrics["accuracy"] == max(t.metrics["accuracy"] for t in resumed.finished)


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.csv.gz", "t.parquet", "t.json", "t.orc"])
def test_every_format_reads_the_same_typed_table(spark, tmp_path, name):
    frame = tables.churn(rows=60)
    frame.loc[::7, "tenure"] = None  # missing numbers in every format
    path = tmp_path / name
    if name.endswith((".csv", ".csv.gz")):
        tables.write_csv(frame, path)
    elif name.endswith(".tsv"):
        tables.write_csv(frame, path, sep="\t")
    elif name.endswith(".json"):
        frame.to_json(path, orient="records", lines=True)
    else:
        spark.createDataFrame(frame.astype({"tenure": "float64"})).write.format(
            name.rsplit(".", 1)[1]
        ).save(str(path))
    with prepared(spark, path=str(path), label="churned") as got:
        roles = {p.name: p.role for p in got.spec.profile}
        missing = {p.name: p.missing for p in got.spec.profile}
    assert roles == {"tenure": "numeric", "plan": "categorical", "churned": "label"}
    assert missing["tenure"] == pytest.approx(9 / 60)
    assert got.spec.classes == (0, 1)


def test_balanced_class_weights_make_every_class_weigh_the_same(spark, compose_cfg, tmp_path):
    from sweep.data.prepare import prepared

    frame = tables.churn(rows=600)
    path = tmp_path / "churn.parquet"
    frame.to_parquet(path)
    cfg = compose_cfg(*QUICK, f"data.path={path}", "data.label=churned",
                      "data.class_weight=balanced")  # fmt: skip
    with prepared(spark, cfg.data, progress=False) as data:
        weights = {
            r["label"]: r["total"]
            for r in data.train.groupBy("label").agg({"weight": "sum"})
            .withColumnRenamed("sum(weight)", "total").collect()
        }  # fmt: skip
        assert data.weighted and "weight" not in data.validation.columns
    assert weights[0.0] == pytest.approx(weights[1.0])


def test_the_cli_refuses_a_bad_label_before_any_run(tmp_path, tracking_uri):
    from tests.helpers import run_cli

    path = tables.write_csv(tables.churn(rows=50), tmp_path / "churn.csv")
    done = run_cli("+experiment=smoke", "data=table", f"data.path={path}", "data.label=Churned",
                   f"tracking.uri={tracking_uri}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "data.label: 'Churned' is not a column of" in done.stderr
    assert "tenure, plan, churned" in done.stderr and "Traceback" not in done.stderr
    client = MlflowClient(tracking_uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


def test_model_auto_and_warm_start_on_a_regression_table(spark, compose_cfg, tmp_path):
    path = tmp_path / "houses.parquet"
    tables.houses(rows=500).to_parquet(path)
    common = ("+experiment=auto", "data=table", "sweep.n_startup_jobs=2", f"data.path={path}",
              "data.label=price", "tracking.log_models=none", "registry.enabled=false",
              "search.forest.num_trees={type:int,low:2,high:5}")  # fmt: skip
    cfg = compose_cfg(*common, "sweep.max_evals=3")
    prior = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert {t.params["impurity"] for t in prior.finished} == {"variance"}  # both families
    warm = compose_cfg(*common, "sweep.max_evals=2", f"sweep.warm_start={prior.parent_run_id}")
    result = run_sweep(warm, spark, Tracker.connect(warm.tracking))
    assert len(result.trials) == 2 and result.metric == "rmse"
    parent = MlflowClient(warm.tracking.uri).get_run(result.parent_run_id)
    assert parent.data.params["warm_start_trials"] == "3"
