"""The terminal summary: pure text from a SweepResult."""

from sweep.records import Registration, SweepResult, TrialRecord
from sweep.report import summary


def result(uri):
    best = TrialRecord(1, "run1", "ok", {"maxDepth": 12}, {"accuracy": 0.9}, fit_seconds=2.0)
    other = TrialRecord(0, "run0", "ok", {"maxDepth": 5}, {"accuracy": 0.7}, fit_seconds=1.0)
    r = SweepResult(
        "parent", "1", uri, "accuracy", [other, best], best, {"accuracy": 0.91}, "runs:/run1/model",
        {"train": 80, "validation": 10, "test": 10}, 12.0, 3.0,
    )  # fmt: skip
    r.registration = Registration("covtype-dtree", 1, "champion", True, "first version", None)
    return r


def test_a_local_store_is_browsed_with_mlflow_ui_and_served_directly():
    text = summary(result("sqlite:///mlflow.db"))
    assert "mlflow ui --backend-store-uri sqlite:///mlflow.db" in text
    assert "serve it:    mlflow models serve -m models:/covtype-dtree@champion" in text
    assert text.index("#  val accuracy") < text.index("  1        0.9000")


def test_a_server_is_opened_and_named_for_serving_without_its_password():
    text = summary(result("http://me:secret@127.0.0.1:5000"))
    assert "open http://***@127.0.0.1:5000" in text
    assert "MLFLOW_TRACKING_URI=http://***@127.0.0.1:5000 mlflow models serve" in text
    assert "secret" not in text and "--backend-store-uri" not in text
