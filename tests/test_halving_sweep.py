"""sweep.scheduler=halving end to end: real local Spark, a real SQLite MLflow store.

The sweeps here use rungs of 1/3 and 1 (min_fraction 0.3, eta 3): brackets of 3 configurations,
the best of which is fitted on the whole training split. 6 configurations: 8 fits.
"""

import dataclasses
import shutil
import signal

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hyperopt import base, tpe
from mlflow.tracking import MlflowClient
from pyspark.sql import functions as F

from sweep.config_checks import load_config
from sweep.errors import ConfigError, Interrupted
from sweep.interrupts import StopRequest
from sweep.runner import run_sweep
from sweep.schedulers.halving.resume import load_history
from sweep.schedulers.halving.samples import rung_samples
from sweep.schedulers.halving.search import HalvingState, tpe_history
from sweep.search.space import SearchSpace
from sweep.tracking.runs import Tracker
from tests.conftest import CONF_DIR, QUICK
from tests.helpers import children

HALVING = (*QUICK, "sweep.scheduler=halving", "sweep.fidelity.min_fraction=0.3")
SIX = (*HALVING, "sweep.max_evals=6")


@pytest.fixture(scope="module")
def halving_sweep(spark, tmp_path_factory, _template_store):
    """One 6-configuration halving sweep in its own store, for the tests that only read it."""
    db = tmp_path_factory.mktemp("halving-sweep") / "mlflow.db"
    shutil.copy(_template_store, db)
    uri = f"sqlite:///{db}"
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = load_config(
            compose(
                config_name="config",
                overrides=[*SIX, f"tracking.uri={uri}", "sweep.progress_bar=false"],
            )
        )
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    return cfg, result, MlflowClient(uri)


def at_best(client, run):
    """A fit's validation accuracy at its best point (sweep.curves: the best of its depths)."""
    curve = client.get_metric_history(run.info.run_id, "accuracy_by_depth")
    return max([run.data.metrics["accuracy"], *(m.value for m in curve)])


def fits(runs, client=None):
    """(configuration, rung) → (params without the schedule's, validation accuracy at the fit's
    best point when `client` reads its curve, else as fitted)."""
    out = {}
    for run in runs:
        key = (int(run.data.tags["sweep.config"]), int(run.data.params["rung"]))
        assert key not in out, f"{key} fitted twice"
        params = {k: v for k, v in run.data.params.items() if k not in ("rung", "train_fraction")}
        out[key] = (params, at_best(client, run) if client else run.data.metrics["accuracy"])
    return out


def test_children_record_rung_and_fraction_and_only_the_best_of_three_move_up(halving_sweep):
    cfg, result, client = halving_sweep
    runs = children(client, result.parent_run_id)
    assert len(runs) == 8 and {r.info.status for r in runs} == {"FINISHED"}
    for run in runs:
        rung, fraction = run.data.params["rung"], float(run.data.params["train_fraction"])
        assert (rung, fraction) in {("0", 1 / 3), ("1", 1.0)}
    got = fits(runs, client)  # promotion compares each configuration's best depth
    assert sorted(c for c, r in got if r == 0) == list(range(6))  # max_evals: configurations
    for bracket in (0, 1):
        members = range(3 * bracket, 3 * bracket + 3)
        best = best_first(got, members)
        assert [c for c, r in got if r == 1 and c in members] == [best]
        assert got[(best, 1)][0] == got[(best, 0)][0]  # the same configuration, promoted
    assert result.end_reason == "max_evals"


def test_the_winner_is_a_full_data_fit_and_only_it_is_tested(halving_sweep):
    cfg, result, client = halving_sweep
    runs = children(client, result.parent_run_id)
    full = [r for r in runs if r.data.params["train_fraction"] == "1.0"]
    best = max(full, key=lambda r: at_best(client, r))  # its best depth, refitted
    parent = client.get_run(result.parent_run_id)
    assert parent.data.tags["sweep.best_run_id"] == best.info.run_id == result.best.run_id
    assert result.best.train_fraction == 1.0
    assert parent.data.metrics["best_accuracy"] == pytest.approx(at_best(client, best), abs=1e-12)
    assert "test_accuracy" in parent.data.metrics
    assert not [r for r in runs if any(k.startswith("test_") for k in r.data.metrics)]
    assert parent.data.params["scheduler"] == "halving"
    assert parent.data.params["fidelity_eta"] == "3"
    history = client.get_metric_history(result.parent_run_id, "best_so_far_accuracy")
    assert max(m.value for m in history) == pytest.approx(at_best(client, best), abs=1e-12)
    artifacts = {a.path for a in client.list_artifacts(result.parent_run_id, "plots")}
    assert {"plots/best_vs_time.png", "plots/history.png"} <= artifacts


def test_tpe_asks_each_point_from_every_fit_before_it(halving_sweep):
    """One fit at a time, configuration c is TPE's suggestion (with the c-th draw of the seed's
    stream) from every fit that ended before it was asked: all of the earlier brackets' and the
    first-rung fits of its own bracket's earlier configurations, each configuration (and every
    point of its depth curve, read back from the children) ranked by the rung it reached and then
    its score there."""
    cfg, result, client = halving_sweep
    again = dataclasses.replace(
        cfg, sweep=dataclasses.replace(cfg.sweep, resume=result.parent_run_id)
    )
    sha256 = client.get_run(result.parent_run_id).data.params["data_sha256"]
    state = load_history(Tracker.connect(again.tracking), again, sha256).state
    stream = np.random.default_rng(cfg.sweep.seed)
    draws = [stream.integers(2**31 - 1) for _ in range(6)]  # one per ask, as the loop draws
    space = SearchSpace.of(cfg)
    domain = base.Domain(lambda _: {"status": "ok", "loss": 0.0}, space.hyperopt())
    assert cfg.sweep.n_startup_jobs == 2  # configurations 0 and 1 are random
    for number in range(2, 6):
        bracket_start = number - number % 3
        ended = {
            (c, rung): record
            for (c, rung), record in state.results.items()
            if c < bracket_start or (c < number and rung == 0)
        }
        before = HalvingState(points={c: state.points[c] for c, _ in ended}, results=ended)
        [doc] = tpe.suggest(
            [number], domain, tpe_history(before, cfg.sweep.metric, space), draws[number],
            n_startup_jobs=2,
        )  # fmt: skip
        asked = {k: [float(x) for x in v] for k, v in doc["misc"]["vals"].items()}
        asked["max_depth"] = [float(cfg.search["max_depth"].high)]  # curves.fit=top fits there
        assert asked == {k: [float(x) for x in v] for k, v in state.points[number].items()}, number


def test_rung_samples_are_nested_seeded_and_the_right_size(spark):
    train = spark.range(6000).repartition(2).persist()
    with rung_samples(train, (1 / 9, 1 / 3, 1.0), seed=7) as samples:
        small, middle, whole = ({r.id for r in s.select("id").collect()} for s in samples)
        assert small < middle < whole and len(whole) == 6000
        assert abs(len(small) - 6000 / 9) < 120 and abs(len(middle) - 2000) < 150
        assert samples[0].rdd.getNumPartitions() == 2  # the split's partitioning, kept
    with rung_samples(train, (1 / 3, 1.0), seed=7) as again:
        assert {r.id for r in again[0].select("id").collect()} == middle  # the same draw
    with rung_samples(train, (1 / 3, 1.0), seed=8) as other:
        assert {r.id for r in other[0].select("id").collect()} != middle
    assert train.filter(F.col("id") < 0).count() == 0  # the training split is left as it was
    train.unpersist()


@pytest.mark.slow
def test_same_seed_same_schedule_with_one_trial_at_a_time(halving_sweep, compose_cfg, spark):
    _, first, first_client = halving_sweep
    cfg = compose_cfg(*SIX)
    again = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(cfg.tracking.uri)
    assert fits(children(client, again.parent_run_id)) == fits(
        children(first_client, first.parent_run_id)
    )
    other = compose_cfg(*SIX, "sweep.seed=5")
    changed = run_sweep(other, spark, Tracker.connect(other.tracking))
    assert fits(children(client, changed.parent_run_id)) != fits(
        children(client, again.parent_run_id)
    )


@pytest.mark.slow
def test_parallel_trials_ask_two_points_at_a_time(halving_sweep, compose_cfg, spark):
    """Two fits at a time: a batch's two points are asked from the same history, so the first
    (asked from nothing either way) is the sequential sweep's, while the second is random here and
    TPE's there (one fit's depth curve is already n_startup_jobs observations); the rest of the
    schedule is whole and well formed."""
    _, first, first_client = halving_sweep
    cfg = compose_cfg(*SIX, "sweep.parallelism=2")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    runs = children(MlflowClient(cfg.tracking.uri), result.parent_run_id)
    got, sequential = fits(runs), fits(children(first_client, first.parent_run_id))
    assert got[(0, 0)] == sequential[(0, 0)]
    assert sorted(c for c, r in got if r == 0) == list(range(6))
    assert len(got) == 8 and {r.info.status for r in runs} == {"FINISHED"}


class StopAfter(StopRequest):
    """A SIGINT that arrives before the (calls + 1)th check: the objective checks once per fit,
    the runner once after the data preparation."""

    def __init__(self, calls: int):
        super().__init__()
        self.left = calls

    def raise_if_requested(self) -> None:
        self.left -= 1
        if self.left < 0:
            self.signum = signal.SIGINT
        super().raise_if_requested()


@pytest.mark.slow
def test_an_interrupted_schedule_resumes_where_it_stopped(compose_cfg, spark):
    cfg = compose_cfg(*SIX)
    with pytest.raises(Interrupted):  # after 5 fits: bracket 0 done, 1 of bracket 1's three
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking), StopAfter(1 + 5))
    client = MlflowClient(cfg.tracking.uri)
    [parent] = client.search_runs(
        [client.get_experiment_by_name(cfg.tracking.experiment).experiment_id],
        "tags.`sweep.role` = 'parent'",
    )
    before = {r.info.run_id: r for r in children(client, parent.info.run_id)}
    done = fits(before.values())
    assert sorted(done) == sorted([(0, 0), (1, 0), (2, 0), (3, 0), (best_first(done, range(3)), 1)])

    resume = f"sweep.resume={parent.info.run_id}"
    with pytest.raises(ConfigError, match="scheduler=halving without it"):
        plain = compose_cfg(*QUICK, "sweep.max_evals=6", resume)
        run_sweep(plain, spark, Tracker.connect(plain.tracking))
    with pytest.raises(ConfigError, match="sweep.scheduler: cannot resume"):
        other = compose_cfg(*SIX, "sweep.fidelity.min_fraction=0.1", resume)
        run_sweep(other, spark, Tracker.connect(other.tracking))

    resumed = compose_cfg(*SIX, resume)
    result = run_sweep(resumed, spark, Tracker.connect(resumed.tracking))
    runs = children(client, parent.info.run_id)
    got = fits(runs)  # asserts that no (configuration, rung) was fitted twice
    assert len(got) == 8 and sorted(c for c, r in got if r == 0) == list(range(6))
    assert [c for c, r in got if r == 1 and c >= 3] == [best_first(got, (3, 4, 5))]
    for run_id, old in before.items():  # finished fits untouched, not refitted
        assert client.get_run(run_id).data.metrics == old.data.metrics
    assert result.parent_run_id == parent.info.run_id and result.best.train_fraction == 1.0
    numbers = [int(r.data.tags["sweep.trial"]) for r in runs]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.slow
def test_a_timeout_still_ends_on_a_full_data_fit(compose_cfg, spark):
    """Past timeout_s no configuration is asked and no rung starts; the best configuration
    reached is fitted on the whole training split, so there is a winner to report and test.
    Rungs 1/9, 1/3, 1: the first fit outlasts the 0.5 s, so configuration 0 goes straight from
    1/9 to the whole split."""
    cfg = compose_cfg(*QUICK, "sweep.scheduler=halving", "sweep.max_evals=9", "sweep.timeout_s=0.5")
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    got = fits(children(MlflowClient(cfg.tracking.uri), result.parent_run_id))
    assert sorted(got) == [(0, 0), (0, 2)]  # configurations 1-8 never asked, rung 1 skipped
    assert result.end_reason == "timeout" and result.best.train_fraction == 1.0
    assert result.test_metrics["accuracy"] > 0


def best_first(got, configs):
    """The configuration of these with the best rung-0 accuracy (ties: the earlier)."""
    first = {c: got[(c, 0)][1] for c in configs}
    return min(first, key=lambda c: (-first[c], c))


@pytest.mark.slow
def test_sigint_during_a_fit_ends_killed_and_the_resume_completes(tmp_path, tracking_uri, spark):
    """A real signal to the CLI while a rung's fit runs (sweep.parallelism=2: two at once)."""
    from tests.test_resume import parent_of, start_sweep, trials, wait_for

    overrides = ("sweep.scheduler=halving", "sweep.fidelity.min_fraction=0.3", "sweep.max_evals=6")
    process = start_sweep(tmp_path, *overrides, "sweep.parallelism=2")
    wait_for(
        lambda: (
            sum(r.info.status == "FINISHED" for r in trials(tracking_uri)) >= 2
            and any(r.info.status == "RUNNING" for r in trials(tracking_uri))
        ),
        process,
    )
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    parent = parent_of(tracking_uri)
    assert parent.info.status == "KILLED" and "Traceback" not in stderr
    assert f"sweep.resume={parent.info.run_id}" in stderr
    statuses = [r.info.status for r in trials(tracking_uri)]
    assert "RUNNING" not in statuses and "KILLED" in statuses

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = load_config(
            compose(
                config_name="config",
                overrides=[
                    *QUICK,
                    *overrides,
                    f"sweep.resume={parent.info.run_id}",
                    f"tracking.uri={tracking_uri}",
                    "sweep.progress_bar=false",
                ],
            )
        )
    result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    finished = [r for r in trials(tracking_uri) if r.info.status == "FINISHED"]
    got = fits(finished)  # no (configuration, rung) finished twice
    assert len(got) == 8 and result.end_reason == "max_evals"
    for bracket in (0, 1):
        members = range(3 * bracket, 3 * bracket + 3)
        assert [c for c, r in got if r == 1 and c in members] == [best_first(got, members)]
