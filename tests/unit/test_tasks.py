"""The tasks' metrics and every metric's direction (pure), and the config a known task gives."""

import math

import pytest

from sweep import tasks
from sweep.config_checks import for_task
from sweep.errors import ConfigError
from sweep.tasks.classification import metrics_from_confusion, recall_by_class
from sweep.tasks.regression import metrics_from_sums


@pytest.mark.parametrize(
    ("metric", "new", "old", "better"),
    [
        ("accuracy", 0.9, 0.8, True),
        ("accuracy", 0.8, 0.9, False),
        ("accuracy", 0.8, None, True),
        ("rmse", 1.0, 2.0, True),
        ("rmse", 2.0, 1.0, False),
        ("mae", 0.5, 0.5, False),  # strict: a tie is no improvement
        ("logLoss", 0.2, 0.3, True),
        ("r2", 0.7, 0.6, True),
        ("areaUnderROC", 0.7, 0.6, True),
    ],
)
def test_better_knows_each_metrics_direction(metric, new, old, better):
    assert tasks.better(metric, new, old) is better


def test_loss_is_what_tpe_minimises():
    assert tasks.loss("accuracy", 0.9) == -0.9
    assert tasks.loss("rmse", 3.0) == 3.0


def test_best_of_picks_the_lowest_rmse_and_the_highest_accuracy():
    values = [3.0, 1.0, 2.0]
    assert tasks.best_value(values, "rmse") == 1.0
    assert tasks.best_value(values, "accuracy") == 3.0
    assert tasks.best_value([], "rmse") is None


def test_every_metric_a_task_reports_is_one_sweep_metric_may_name():
    from sweep.config import METRICS

    assert set(tasks.all_metrics()) | {"areaUnderROC", "areaUnderPR"} == set(METRICS)


def test_macro_f1_shows_a_minority_class_the_model_never_predicts():
    matrix = {(0, 0): 98, (1, 0): 2}  # class 1 is never predicted
    metrics = metrics_from_confusion(matrix)
    assert metrics["accuracy"] == pytest.approx(0.98)
    assert metrics["f1_macro"] == pytest.approx((2 * 0.98 / 1.98 + 0.0) / 2)
    assert recall_by_class(matrix) == {0: 1.0, 1: 0.0}


def test_regression_metrics_from_sums():
    y, p = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 4.5]
    errors = [b - a for a, b in zip(y, p, strict=True)]
    got = metrics_from_sums(
        4, sum(e * e for e in errors), sum(abs(e) for e in errors), sum(y), sum(v * v for v in y)
    )
    assert got["rmse"] == pytest.approx(math.sqrt(1.5 / 4))
    assert got["mae"] == pytest.approx(2.0 / 4)
    assert got["r2"] == pytest.approx(1 - 1.5 / 5.0)
    assert math.isnan(metrics_from_sums(2, 0.0, 0.0, 2.0, 2.0)["r2"])  # a constant label


def test_a_regression_sweep_defaults_to_rmse_and_variance(compose_cfg):
    cfg = compose_cfg("+experiment=smoke", "search.impurity={type:choice,values:[gini,entropy]}")
    cfg.sweep.metric = None  # as a table's config is until its label is read
    resolved = for_task(cfg, "regression")
    assert resolved.sweep.metric == "rmse"
    assert resolved.search["impurity"].values == ["variance"]
    assert cfg.search["impurity"].values == ["gini", "entropy"]  # a copy: the input is unchanged


@pytest.mark.parametrize(
    ("overrides", "task", "message"),
    [
        (["sweep.metric=rmse"], "classification", r"sweep.metric: 'rmse' is not a metric of"),
        (["sweep.metric=accuracy"], "regression", r"'accuracy' is not a metric of regression"),
        (["sweep.metric=areaUnderROC"], "classification", r"Use one of accuracy"),
        (
            ["search.impurity={type:choice,values:[gini]}"],
            "regression",
            r"search.impurity.values: 'gini' is not an impurity of regression",
        ),
        (
            ["search.impurity={type:choice,values:[variance]}"],
            "classification",
            r"'variance' is not an impurity of classification",
        ),
    ],
)
def test_a_metric_or_impurity_of_another_task_is_refused(compose_cfg, overrides, task, message):
    """Covtype's task is known when the config loads, so its refusal comes then; a table's
    once its label is read (`for_task`)."""
    with pytest.raises(ConfigError, match=message):
        cfg = compose_cfg("+experiment=smoke", *(o for o in overrides if "impurity" in o))
        cfg.sweep.metric = next(
            (o.split("=", 1)[1] for o in overrides if o.startswith("sweep.metric")), None
        )
        for_task(cfg, task)


def test_binary_classification_offers_the_areas_under_the_curves(compose_cfg):
    cfg = compose_cfg("+experiment=smoke")
    cfg.sweep.metric = "areaUnderPR"
    assert for_task(cfg, "classification", binary=True).sweep.metric == "areaUnderPR"


def test_max_bins_below_the_largest_category_count_is_raised(compose_cfg, caplog):
    cfg = compose_cfg("+experiment=smoke")  # max_bins 8..64
    resolved = for_task(cfg, "classification", min_bins=101)
    assert (resolved.search["max_bins"].low, resolved.search["max_bins"].high) == (101, 101)
    assert "raised to 101" in caplog.text


def test_unsearched_bins_stay_sparks_default_unless_a_category_needs_more(compose_cfg):
    cfg = compose_cfg("+experiment=smoke", "~search.max_bins")
    assert "max_bins" not in for_task(cfg, "classification", min_bins=5).search  # 32 will do
    assert for_task(cfg, "classification", min_bins=41).search["max_bins"].low == 41


def test_metrics_from_arrays_are_the_confusion_and_sums_metrics():
    """What sweep.curves computes in NumPy is what evaluate computes from Spark's aggregates."""
    import numpy as np

    from sweep.tasks import classification, regression

    label = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0])
    predicted = np.array([1.0, 2.0, 2.0, 3.0, 1.0, 3.0])
    p_true = np.array([0.9, 0.4, 0.8, 0.7, 0.0, 1.0])
    got = classification.metrics_of_arrays(label, predicted, p_true)
    matrix = {(1, 1): 1, (1, 2): 1, (2, 2): 1, (3, 3): 2, (3, 1): 1}
    assert {k: v for k, v in got.items() if k != "logLoss"} == (
        classification.metrics_from_confusion(matrix)
    )
    assert got["accuracy"] == 4 / 6
    expected_loss = -(np.log(0.9) + np.log(0.4) + np.log(0.8) + np.log(0.7) + np.log(1e-15)) / 6
    assert got["logLoss"] == pytest.approx(expected_loss)
    y, yhat = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    assert regression.metrics_of_arrays(y, yhat) == pytest.approx(
        regression.metrics_from_sums(3, 0.25 + 1.0, 0.5 + 1.0, 7.0, 21.0)
    )
