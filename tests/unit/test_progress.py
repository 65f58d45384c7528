"""The progress bar speaks the selection metric and counts failures; the best-so-far steps."""

import pytest
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, hp, tpe

from sweep.progress import Progress, postfix
from sweep.records import TrialRecord


@pytest.mark.parametrize(
    ("best", "failed", "ending", "text"),
    [
        (0.86176, 0, "", "best accuracy 0.8618"),
        (0.86176, 2, "", "best accuracy 0.8618 · 2 failed"),
        (None, 1, "", "no accuracy yet · 1 failed"),
        (0.5, 0, "stopped after 3 of 8", "best accuracy 0.5000 · stopped after 3 of 8"),
    ],
)
def test_postfix(best, failed, ending, text):
    assert postfix("accuracy", best, failed, ending) == text


def test_a_resume_logs_the_best_so_far_steps_a_kill_left_out():
    """Killed after trial 1's run ended but before its step: the resume logs step 1 (and only
    the missing steps), with the best of trials 0 and 1."""
    logged = []
    earlier = [
        TrialRecord(2, "r2", "ok", {}, {"accuracy": 0.85}),
        TrialRecord(0, "r0", "ok", {}, {"accuracy": 0.8}),
        TrialRecord(1, "r1", "ok", {}, {"accuracy": 0.9}),
    ]
    progress = Progress("accuracy", earlier, lambda step, value: logged.append((step, value)))
    progress.catch_up(earlier, {0, 2})
    assert logged == [(1, 0.9)]
    progress.catch_up(earlier, {0, 1, 2})
    assert logged == [(1, 0.9)]


def test_best_so_far_continues_a_resumed_sweep_and_steps_per_trial():
    logged = []
    earlier = [TrialRecord(0, "r0", "ok", {}, {"accuracy": 0.8})]
    progress = Progress("accuracy", earlier, lambda step, value: logged.append((step, value)))
    progress(TrialRecord(1, "r1", "ok", {}, {"accuracy": 0.7}))
    progress(TrialRecord(2, "r2", "fail", {}))
    progress(TrialRecord(3, "r3", "ok", {}, {"accuracy": 0.9}))
    assert logged == [(1, 0.8), (2, 0.8), (3, 0.9)]
    assert progress.text() == "best accuracy 0.9000 · 1 failed"


def test_hyperopts_bar_shows_the_metric_and_failures_not_the_loss(capsys):
    progress = Progress("accuracy", [])

    def objective(x):
        if x > 0.8:
            record = TrialRecord(0, "r", "fail", {})
            progress(record)
            return {"status": STATUS_FAIL}
        record = TrialRecord(0, "r", "ok", {}, {"accuracy": x})
        progress(record)
        return {"status": STATUS_OK, "loss": -x}

    rstate = __import__("numpy").random.default_rng(0)
    fmin(objective, hp.uniform("x", 0, 1), tpe.suggest, 12, trials=Trials(), rstate=rstate,
         show_progressbar=progress.bar)  # fmt: skip
    out = capsys.readouterr()
    text = out.out + out.err
    assert f"best accuracy {progress.best:.4f}" in text and "best loss" not in text
    assert f"{progress.failed} failed" in text and progress.failed > 0


def test_a_bar_that_ends_early_says_so(capsys):
    progress = Progress("accuracy", [])
    with progress.bar(initial=0, total=8) as bar:
        bar.update(3)
    assert "stopped after 3 of 8" in capsys.readouterr().out
