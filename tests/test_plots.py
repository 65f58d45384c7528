"""The PNGs on the parent run, and the figures and table they are drawn from."""

import matplotlib.image
import mlflow.artifacts
import numpy as np

from sweep import plots
from sweep.config import ParamSpec
from sweep.data.covtype import CLASS_NAMES
from sweep.records import TrialRecord
from sweep.report import top_trials
from sweep.search.space import SearchSpace

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# best_vs_time.png: every scheduler's best so far against the search's seconds
PLOTS = {"history.png", "parameters.png", "confusion_matrix.png", "feature_importances.png",
         "best_vs_time.png"}  # fmt: skip


def record(number, accuracy, depth, impurity="gini", status="ok"):
    metrics = {"accuracy": accuracy} if status == "ok" else {}
    params = {"maxDepth": depth, "maxBins": 32, "impurity": impurity}
    return TrialRecord(number, f"run{number}", status, params, metrics, fit_seconds=1.5)


TRIALS = [
    record(0, 0.71, 5),
    record(1, 0.80, 12, "entropy"),
    record(2, 0.0, 30, status="fail"),
    record(3, 0.76, 9),
]


def test_the_parent_run_carries_five_valid_pngs(smoke_sweep, tmp_path):
    _, result, client = smoke_sweep
    listed = {f.path for f in client.list_artifacts(result.parent_run_id, "plots")}
    assert listed == {f"plots/{name}" for name in PLOTS}
    folder = mlflow.artifacts.download_artifacts(
        run_id=result.parent_run_id,
        artifact_path="plots",
        dst_path=str(tmp_path),
        tracking_uri=result.tracking_uri,
    )
    for name in PLOTS:
        path = tmp_path / "plots" / name
        assert str(path).startswith(folder)
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        height, width, _ = matplotlib.image.imread(path).shape
        assert width >= 400 and height >= 250


def test_history_draws_finished_trials_and_the_best_so_far():
    fig = plots.history(TRIALS, "accuracy")
    ax = fig.axes[0]
    points = ax.collections[0].get_offsets()
    assert points[:, 0].tolist() == [0, 1, 3] and points[:, 1].tolist() == [0.71, 0.80, 0.76]
    assert ax.lines[0].get_ydata().tolist() == [0.71, 0.80, 0.80]


def test_parameters_has_one_panel_per_searched_parameter():
    search = {
        "max_depth": ParamSpec(type="int", low=4, high=30),
        "max_bins": ParamSpec(type="int", low=16, high=512, log=True),
        "impurity": ParamSpec(type="choice", values=["gini", "entropy"]),
    }
    fig = plots.parameters(TRIALS, "accuracy", SearchSpace({"dtree": search}, nested=False))
    axes = fig.axes
    assert [ax.get_xlabel() for ax in axes] == list(search)
    assert axes[1].get_xscale() == "log"
    assert [t.get_text() for t in axes[2].get_xticklabels()] == ["gini", "entropy"]
    depths = axes[0].collections[0].get_offsets()[:, 0].tolist()
    assert depths == [5, 12, 9]


def test_confusion_matrix_names_the_classes_and_shows_counts():
    matrix = {(1, 1): 90, (1, 2): 10, (2, 2): 50, (5, 2): 3}
    fig = plots.confusion(matrix, CLASS_NAMES)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASS_NAMES.values())
    texts = {t.get_text() for t in ax.texts}
    assert {"90", "10", "50", "3"} <= texts
    shares = np.asarray(ax.images[0].get_array())
    assert shares[0, 0] == 0.9 and shares[4, 1] == 1.0 and shares[3].sum() == 0


def test_confusion_matrix_of_a_table_shows_the_users_labels():
    matrix = {(0, 0): 5, (1, 2): 1, (2, 2): 4}
    fig = plots.confusion(matrix, {0: "Adelie", 1: "Chinstrap", 2: "Gentoo"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Adelie", "Chinstrap", "Gentoo"]


def test_history_of_a_lower_is_better_metric_steps_down():
    trials = [
        TrialRecord(i, f"r{i}", "ok", {}, metrics={"rmse": v})
        for i, v in enumerate([3.0, 2.0, 2.5, 1.0])
    ]
    fig = plots.history(trials, "rmse")
    best = fig.axes[0].lines[0].get_ydata().tolist()
    assert best == [3.0, 2.0, 2.0, 1.0]


def test_predicted_vs_actual_draws_every_pair_and_the_residuals():
    pairs = [(1.0, 1.5), (2.0, 1.0), (3.0, 3.0)]
    fig = plots.predicted_vs_actual(pairs)
    left, right = fig.axes
    assert left.collections[0].get_offsets().tolist() == [[1.0, 1.5], [2.0, 1.0], [3.0, 3.0]]
    assert right.collections[0].get_offsets()[:, 1].tolist() == [0.5, -1.0, 0.0]


def test_importances_shows_the_largest_first():
    values = {f"f{i}": i / 100 for i in range(30)}
    fig = plots.importances(values, top=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["f25", "f26", "f27", "f28", "f29"]  # barh draws bottom-up


def test_top_trials_table_is_sorted_best_first_and_aligned():
    lines = top_trials(TRIALS, "accuracy", n=2)
    assert lines[0] == "Top 2 of 3 finished trials:"
    header, first, second = lines[1:]
    assert header.split() == ["#", "val", "accuracy", "maxDepth", "maxBins", "impurity", "fit", "s"]
    assert first.split()[:2] == ["1", "0.8000"] and second.split()[:2] == ["3", "0.7600"]
    assert len(header) == len(first) == len(second)


def test_a_pinned_parameter_gets_no_panel():
    search = {"max_depth": ParamSpec("int", 4, 30), "max_bins": ParamSpec("int", 32, 32)}
    fig = plots.parameters(TRIALS, "accuracy", SearchSpace({"dtree": search}, nested=False))
    assert [ax.get_title() for ax in fig.axes] == ["max_depth"]
