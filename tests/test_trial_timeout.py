"""sweep.trial_timeout_s with real Spark jobs: cancelled past the budget, the session usable."""

import time

import pytest
from mlflow.tracking import MlflowClient

from sweep.errors import AllTrialsFailed, TooManyFailures
from sweep.runner import run_sweep
from sweep.tracking.runs import Tracker
from sweep.trial_timeout import TrialTimeout, time_limit
from tests.conftest import QUICK


def slow_job(spark, seconds=60):
    return spark.sparkContext.parallelize(range(2), 2).map(lambda x: time.sleep(seconds) or x).sum()


def test_a_job_past_the_budget_is_cancelled_and_the_session_stays_usable(spark):
    sc = spark.sparkContext
    started = time.monotonic()
    with (
        pytest.raises(TrialTimeout, match=r"ran past sweep.trial_timeout_s=1 s"),
        time_limit(sc, 1.0, "test-slow"),
    ):
        slow_job(spark)
    assert time.monotonic() - started < 30  # not the job's 60 s
    assert "test-slow" not in sc.getJobTags()
    assert spark.range(10).count() == 10


def test_a_block_that_finishes_after_its_budget_is_a_timeout_too(spark):
    """Driver work between two Spark jobs is not cancellable: finishing late still fails."""
    with (
        pytest.raises(TrialTimeout, match=r"trial_timeout_s=0.05 s"),
        time_limit(spark.sparkContext, 0.05, "test-late"),
    ):
        time.sleep(0.5)


def test_a_block_within_its_budget_is_untouched(spark):
    with time_limit(spark.sparkContext, 30.0, "test-fast"):
        assert spark.range(100).count() == 100
    with time_limit(spark.sparkContext, None, "unused"):
        assert spark.range(5).count() == 5


def test_an_error_inside_the_budget_is_not_a_timeout(spark):
    with pytest.raises(ZeroDivisionError), time_limit(spark.sparkContext, 30.0, "test-error"):
        1 / 0  # noqa: B018


def children_of(cfg):
    client = MlflowClient(cfg.tracking.uri)
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    runs = client.search_runs([experiment.experiment_id])
    return [r for r in runs if r.data.tags.get("sweep.role") == "trial"]


def test_timed_out_trials_fail_with_the_reason_and_count_toward_max_failures(compose_cfg, spark):
    # No fit of several Spark jobs finishes in 10 ms: every trial runs past its budget.
    cfg = compose_cfg(
        *QUICK, "sweep.max_evals=4", "sweep.max_failures=1", "sweep.trial_timeout_s=0.01"
    )
    with pytest.raises(TooManyFailures, match=r"2 trials failed.*TrialTimeout: ran past"):
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    children = children_of(cfg)
    assert len(children) == 2 and {c.info.status for c in children} == {"FAILED"}
    for child in children:
        assert "sweep.trial_timeout_s=0.01" in child.data.tags["sweep.error"]
    assert spark.range(10).count() == 10


def test_a_sweep_whose_trials_all_time_out_is_an_error(compose_cfg, spark):
    cfg = compose_cfg(
        *QUICK, "sweep.max_evals=2", "sweep.max_failures=null", "sweep.trial_timeout_s=0.01"
    )
    with pytest.raises(AllTrialsFailed, match=r"all 2 trials failed; the first: TrialTimeout"):
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
