"""Spark's fitted trees, exported from the files Spark saves and scored without Spark, predict what
Spark predicts: row for row on the 100k sample's test split, for a depth-30 tree on the one-hot
columns, a tree with categorical features and a random forest, and the pipelines a sweep logs with
data.features=categorical (a tree and a forest on the 54 raw columns, malformed rows too). Where the
sample is absent (a CI clone without ../shared) the same tests run on 60,000 synthetic
Covtype-shaped rows, so the agreement is checked everywhere.
"""

import time

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import PipelineModel
from pyspark.ml.classification import DecisionTreeClassifier, RandomForestClassifier
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from sweep import export
from sweep.config import DataSettings, ModelSettings
from sweep.data import features as encodings
from sweep.data.covtype import FEATURES, FEATURES_COL, LABEL_COL, NUMERIC, assembler
from sweep.data.prepare import prepared
from sweep.treescore import FOREST, TREE, Scorer, encode
from sweep.trial import run_trial
from tests.conftest import SAMPLE_100K

pytestmark = pytest.mark.slow
REAL = SAMPLE_100K.is_file()
NOMINAL = {"Wilderness": 4, "Soil": 40}  # the one-hot groups as one categorical column each
SOURCE = (
    DataSettings(source="covtype", path=str(SAMPLE_100K))
    if REAL
    else DataSettings(source="synthetic", rows=60_000)
)


@pytest.fixture(scope="module")
def covtype(spark):
    """(train split as assembled vectors, test split as a pandas frame of the 54 raw columns)."""
    with prepared(spark, SOURCE, False) as data:
        rows = data.test.select(vector_to_array(FEATURES_COL).alias("x")).toPandas()
        test = pd.DataFrame(np.stack(rows["x"]), columns=FEATURES).astype("int64")
        yield data.train, test


def exported(pipeline, tmp_path):
    pipeline.save(str(tmp_path / "sparkml"))
    started = time.perf_counter()
    trees = export.from_saved_pipeline(tmp_path / "sparkml")
    return trees, time.perf_counter() - started


def spark_scores(spark, pipeline, frame):
    out = (
        pipeline.transform(spark.createDataFrame(frame))
        .select("prediction", vector_to_array("probability").alias("p"))
        .toPandas()
    )
    return out["prediction"].to_numpy(), np.stack(out["p"])


def assert_same(spark, pipeline, trees, frame):
    expected_labels, expected_proba = spark_scores(spark, pipeline, frame)
    # Columns by name: shuffled, with an extra one, as a request may send them.
    shuffled = frame.assign(Cover_Type=0)[[*reversed(frame.columns), "Cover_Type"]]
    labels, proba = Scorer(trees).predict_proba(encode(trees, shuffled))
    assert len(labels) == len(frame)
    assert np.array_equal(labels, expected_labels), np.flatnonzero(labels != expected_labels)[:10]
    np.testing.assert_array_equal(proba, expected_proba)
    scorer = Scorer(trees)
    one_by_one = [scorer.predict(encode(trees, frame.iloc[[i]]))[0] for i in range(50)]
    assert one_by_one == expected_labels[:50].tolist()  # the small-request path too


def test_a_depth_30_tree_on_the_one_hot_columns_predicts_as_spark(spark, covtype, tmp_path):
    train, test = covtype
    tree = DecisionTreeClassifier(
        featuresCol=FEATURES_COL, labelCol=LABEL_COL, maxDepth=30, maxBins=64,
        impurity="entropy", seed=0,
    ).fit(train)  # fmt: skip
    assert tree.depth == 30 if REAL else tree.depth >= 20  # synthetic labels are simpler
    pipeline = PipelineModel(stages=[assembler(), tree])
    trees, seconds = exported(pipeline, tmp_path)
    assert (trees.kind, trees.num_nodes, trees.columns) == (TREE, tree.numNodes, tuple(FEATURES))
    assert seconds < 5, f"export took {seconds:.1f} s for {trees.num_nodes} nodes"
    assert_same(spark, pipeline, trees, test)


def test_a_forest_predicts_as_spark(spark, covtype, tmp_path):
    train, test = covtype
    forest = RandomForestClassifier(
        featuresCol=FEATURES_COL, labelCol=LABEL_COL, numTrees=8, maxDepth=12, seed=0
    ).fit(train)
    pipeline = PipelineModel(stages=[assembler(), forest])
    trees, _ = exported(pipeline, tmp_path)
    assert (trees.kind, len(trees.roots)) == (FOREST, 8)
    assert trees.num_nodes == sum(t.numNodes for t in forest.trees)
    assert_same(spark, pipeline, trees, test)


def categorical_columns(frame):
    """The 4 wilderness and 40 soil one-hot columns as two category indices (0..3, 0..39)."""
    out = frame[NUMERIC].copy()
    out["Wilderness"] = frame[[f"Wilderness_Area_{i}" for i in range(4)]].to_numpy().argmax(1)
    out["Soil"] = frame[[f"Soil_Type_{i}" for i in range(40)]].to_numpy().argmax(1)
    return out


def nominal(train):
    """The training split with the one-hot groups as two category indices, as double columns with
    ML attribute metadata: that is how Spark learns categorical splits."""
    x = F.col("x")
    index = {
        "Wilderness": F.array_position(F.slice(x, 11, 4), 1.0) - 1,
        "Soil": F.array_position(F.slice(x, 15, 40), 1.0) - 1,
    }
    return train.select(vector_to_array(FEATURES_COL).alias("x"), LABEL_COL).select(
        *[x[i].alias(c) for i, c in enumerate(NUMERIC)],
        *[
            index[c]
            .cast("double")
            .alias(c, metadata={"ml_attr": {"type": "nominal", "num_vals": k}})
            for c, k in NOMINAL.items()
        ],
        LABEL_COL,
    )


def test_a_tree_with_categorical_features_predicts_as_spark(spark, covtype, tmp_path):
    train, test = covtype
    vectors = VectorAssembler(inputCols=[*NUMERIC, *NOMINAL], outputCol=FEATURES_COL)
    tree = DecisionTreeClassifier(
        featuresCol=FEATURES_COL, labelCol=LABEL_COL, maxDepth=20, maxBins=48, seed=0
    ).fit(vectors.transform(nominal(train)))
    pipeline = PipelineModel(stages=[vectors, tree])
    trees, _ = exported(pipeline, tmp_path)
    assert (trees.category_set >= 0).sum() > 10, "expected categorical splits"
    assert trees.unseen_left.any() and not trees.unseen_left.all(), "expected both kinds of set"
    scored = categorical_columns(test).astype("float64")
    # Values Spark never saw as categories: Spark still scores them, and so must we, the same way.
    unseen = scored.head(6).assign(
        Wilderness=[6.0, 4.0, 1.5, 0.0, 2.0, 3.0], Soil=[0.0, 3.0, 5.0, 45.0, 40.0, 2.5]
    )
    assert_same(spark, pipeline, trees, pd.concat([scored, unseen], ignore_index=True))


def test_a_pipeline_the_scorer_cannot_reproduce_is_refused(spark, covtype, tmp_path):
    train, _ = covtype
    tree = DecisionTreeClassifier(featuresCol=FEATURES_COL, labelCol=LABEL_COL, maxDepth=2).fit(
        train
    )
    PipelineModel(stages=[tree]).save(str(tmp_path / "bare"))
    with pytest.raises(
        export.UnsupportedModel, match="stages are .'DecisionTreeClassificationModel'"
    ):
        export.from_saved_pipeline(tmp_path / "bare")


@pytest.fixture(scope="module")
def covtype_categorical(spark):
    """(the prepared categorical splits, their test rows as the 54 raw columns, with rows that are
    no category appended: a request may send them, and Spark scores them)."""
    with prepared(spark, SOURCE, False, features="categorical") as data:
        rows = data.test.select(vector_to_array(FEATURES_COL).alias("x")).toPandas()
        test = encodings.raw_rows(np.stack(rows["x"]), "categorical")
        odd = test.head(4).copy()
        odd.loc[odd.index[0], encodings.GROUPS["Soil"]] = 0  # no soil type
        odd.loc[odd.index[1], encodings.GROUPS["Wilderness"]] = 1  # every area
        odd.loc[odd.index[2], "Soil_Type_5"] = 2  # not a one-hot value
        odd.loc[odd.index[3], encodings.GROUPS["Wilderness"]] = 0
        yield data, pd.concat([test, odd], ignore_index=True)


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("dtree", {"maxDepth": 20, "maxBins": 64, "impurity": "entropy"}),
        ("forest", {"numTrees": 6, "maxDepth": 12, "maxBins": 40}),
    ],
)
def test_a_categorical_sweeps_model_predicts_as_spark_on_raw_rows(
    spark, covtype_categorical, tmp_path, family, params
):
    data, test = covtype_categorical
    result = run_trial(
        data.train, data.validation, params, ModelSettings(family=family), features="categorical"
    )
    pipeline = result.pipeline()  # what the sweep logs
    trees, _ = exported(pipeline, tmp_path)
    assert trees.columns == tuple(encodings.feature_names("categorical"))
    assert trees.onehot_columns == (*encodings.GROUPS["Wilderness"], *encodings.GROUPS["Soil"])
    categorical = trees.category_set >= 0
    assert set(trees.feature[categorical].tolist()) == {10, 11}, "splits on both category sets"
    assert set(trees.num_categories.tolist()) == {4, 40}
    assert_same(spark, pipeline, trees, test)
