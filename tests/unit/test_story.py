"""What the MLflow UI says about a sweep: pure text from results."""

import pytest

from sweep.records import Registration, SweepResult, TrialRecord
from sweep.story import parent_note, run_link, runs_page, top_table, trial_name, version_note

ORDER = ["maxDepth", "maxBins", "impurity"]


@pytest.mark.parametrize(
    ("number", "params", "max_evals", "name"),
    [
        (5, {"impurity": "entropy", "maxBins": 139, "maxDepth": 30}, 25, "t05 d30 b139 entropy"),
        (5, {"maxDepth": 30}, 1000, "t005 d30"),  # padded to the budget, so names sort
        (12, {"maxDepth": 4, "minInfoGain": 0.00012345}, 8, "t12 d4 g0.000123"),
        (0, {"maxDepth": 4, "minInstancesPerNode": 7}, 8, "t00 d4 n7"),
        (3, {"unknown": 1.5}, 8, "t03 1.5"),
    ],
)
def test_a_trial_is_named_by_number_then_configuration(number, params, max_evals, name):
    assert trial_name(number, params, max_evals, ORDER) == name


@pytest.mark.parametrize(
    ("uri", "link"),
    [
        ("sqlite:///mlflow.db", "#/experiments/3/runs/abc"),
        ("http://me:secret@host:5000/", "http://***@host:5000/#/experiments/3/runs/abc"),
    ],
)
def test_a_run_link_is_relative_in_a_local_store_and_absolute_on_a_server(uri, link):
    assert run_link(uri, "3", "abc") == link


def test_the_runs_page_asks_for_the_machine_learning_view():
    assert runs_page("sqlite:///m.db", "3") == (
        "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning"
    )
    assert runs_page("https://mlflow.example", "3").startswith("https://mlflow.example/#/")


def result():
    best = TrialRecord(
        1, "run1", "ok", {"maxDepth": 12, "impurity": "gini"}, {"accuracy": 0.9},
        fit_seconds=2.0, name="t01 d12 gini",
    )  # fmt: skip
    other = TrialRecord(0, "run0", "ok", {"maxDepth": 5, "impurity": "gini"}, {"accuracy": 0.7})
    failed = TrialRecord(2, "run2", "fail", {"maxDepth": 9, "impurity": "gini"}, error="boom")
    r = SweepResult(
        "parent", "1", "sqlite:///m.db", "accuracy", [other, best, failed], best,
        {"accuracy": 0.91}, "models:/m-1", {"train": 80, "validation": 10, "test": 10}, 12.0, 3.0,
        end_reason="early_stop",
    )  # fmt: skip
    r.registration = Registration("covtype-dtree", 4, "champion", True, "first version", None)
    return r


def test_the_parent_note_has_the_summarys_essentials():
    note = parent_note(result())
    assert note.startswith("**Best: trial 1** ([t01 d12 gini](#/experiments/1/runs/run1))")
    assert "- best parameters: maxDepth=12, impurity=gini" in note
    assert "- test: accuracy 0.9100" in note
    assert "- trials: 2 finished, 1 failed; ended by early_stop" in note
    assert "[covtype-dtree v4](#/models/covtype-dtree/versions/4), now @champion" in note
    assert note.index("| 1 | 0.9000 | 12 | gini | 2.0 |") < note.index("| 0 | 0.7000 |")


def test_the_version_note_links_its_sweep():
    note = version_note(result())
    assert note.startswith("Trial 1 of [sweep parent](#/experiments/1/runs/parent)")
    assert "validation accuracy 0.9000, test accuracy 0.9100" in note


def test_no_finished_trial_no_table():
    assert top_table([TrialRecord(0, "r", "fail", {})], "accuracy") == []
