import pytest
from pyspark.ml.evaluation import MulticlassClassificationEvaluator

from sweep.config import ModelSettings
from sweep.data.covtype import FEATURES
from sweep.tasks.classification import metrics_from_confusion
from sweep.trial import evaluate, run_trial


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        (
            {(1, 1): 10},
            {
                "accuracy": 1.0,
                "f1": 1.0,
                "weightedPrecision": 1.0,
                "weightedRecall": 1.0,
                "f1_macro": 1.0,
            },  # fmt: skip
        ),
        # Two classes, 3 of 4 right. Class 1: p=1, r=1/2; class 2: p=2/3, r=1; weights 1/2 each.
        (
            {(1, 1): 1, (1, 2): 1, (2, 2): 2},
            {
                "accuracy": 0.75,
                "weightedPrecision": (1 + 2 / 3) / 2,
                "weightedRecall": 0.75,
                "f1": (2 / 3 + 0.8) / 2,
                "f1_macro": (2 / 3 + 0.8) / 2,  # weights of 1/2 each: the same
            },
        ),
        # A predicted class that never occurs counts in nobody's weight; a class never predicted
        # has precision 0 and f1 0.
        (
            {(1, 7): 3, (2, 2): 1},
            {
                "accuracy": 0.25,
                "weightedPrecision": 0.25,
                "weightedRecall": 0.25,
                "f1": 0.25,
                "f1_macro": 0.5,
            },  # classes 1 (f1 0) and 2 (f1 1); 7 is in no truth  # fmt: skip
        ),
    ],
)
def test_metrics_from_confusion(matrix, expected):
    assert metrics_from_confusion(matrix) == pytest.approx(expected)


def test_metrics_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        metrics_from_confusion({})


@pytest.fixture(scope="module")
def trained(spark, tmp_path_factory):
    from sweep.config import DataSettings
    from sweep.data.prepare import prepared

    with prepared(spark, DataSettings(source="synthetic", rows=3000), progress=False) as data:
        result = run_trial(
            data.train,
            data.validation,
            {"maxDepth": 6, "maxBins": 32, "impurity": "gini"},
            ModelSettings(),
        )
        yield data, result


def test_one_pass_metrics_equal_sparks_evaluator(trained):
    data, result = trained
    predictions = result.fitted.transform(data.validation)
    for metric, value in result.metrics.items():
        if metric == "f1_macro":  # no evaluator metric: the mean of Spark's per-label F1
            labels = [r["label"] for r in data.validation.select("label").distinct().collect()]
            per_label = [
                MulticlassClassificationEvaluator(
                    labelCol="label", metricName="fMeasureByLabel", metricLabel=label
                ).evaluate(predictions)
                for label in labels
            ]
            assert value == pytest.approx(sum(per_label) / len(per_label), abs=1e-12)
            continue
        evaluator = MulticlassClassificationEvaluator(labelCol="label", metricName=metric)
        assert value == pytest.approx(evaluator.evaluate(predictions), abs=1e-9), metric


def test_trial_reports_the_tree_it_fitted(trained):
    data, result = trained
    assert result.params == {"maxDepth": 6, "maxBins": 32, "impurity": "gini"}
    assert result.fitted.getMaxDepth() == 6 and result.fitted.getImpurity() == "gini"
    assert 1 <= result.summary["tree_depth"] <= 6
    assert result.summary["num_nodes"] == result.fitted.numNodes > 1
    assert result.fit_seconds > 0 and result.eval_seconds > 0
    assert list(result.importances) == FEATURES
    assert sum(result.importances.values()) == pytest.approx(1.0)
    assert max(result.importances, key=result.importances.get) == "Elevation"
    assert result.metrics["accuracy"] > 0.6  # the synthetic label is learnable


def test_pipeline_scores_raw_columns_with_labels_1_to_7(trained, spark):
    data, result = trained
    raw = spark.createDataFrame(data.example)
    predictions = result.pipeline().transform(raw).select("prediction").collect()
    assert len(predictions) == len(data.example)
    assert {p["prediction"] for p in predictions} <= {float(c) for c in range(1, 8)}


def test_confusion_matrix_counts_every_row(trained):
    data, result = trained
    matrix = evaluate(result.fitted, data.validation, data.spec, details=True).confusion
    assert sum(matrix.values()) == data.counts["validation"]
