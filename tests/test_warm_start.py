"""Warm starts (sweep.warm_start): which prior, what TPE makes of it, what is refused and when.

The end-to-end tests reproduce the sweep's first new point with hyperopt itself (the same history,
the same seed stream): the point a warm-started sweep tries first must be exactly TPE's suggestion
from the prior's trials, and not what the random start would have drawn.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
import pytest
from hyperopt import Trials, fmin, rand, space_eval, tpe
from hyperopt.base import Domain
from mlflow.tracking import MlflowClient

from sweep import curves, run_keys
from sweep.errors import ConfigError
from sweep.models import family
from sweep.records import TrialRecord
from sweep.runner import run_sweep
from sweep.search import observations, warm_start
from sweep.search.observations import PRIOR
from sweep.search.resume import curves_of, record_of
from sweep.search.space import SearchSpace, to_spark_params
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK
from tests.helpers import children

# -- pure ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "recorded", "resumed", "expected"),
    [
        (None, None, None, None),  # no warm start
        ("abc", None, None, "abc"),
        ("last", None, None, "last"),
        (None, "abc", "sweep1", "abc"),  # a resume re-reads the prior it recorded
        ("last", "abc", "sweep1", "abc"),  # the command an interrupted sweep prints
        ("abc", "abc", "sweep1", "abc"),
        (None, None, "sweep1", None),  # a cold sweep resumed cold
    ],
)
def test_which_prior(requested, recorded, resumed, expected):
    assert warm_start.reference(requested, recorded, resumed) == expected


@pytest.mark.parametrize(
    ("requested", "recorded", "message"),
    [
        ("xyz", "abc", r"sweep.warm_start: sweep sweep1 was warm-started from abc, not xyz"),
        ("abc", None, r"sweep.warm_start: sweep sweep1 started without a warm start"),
        ("last", None, r"started without a warm start.*Resume without sweep.warm_start"),
    ],
)
def test_a_resume_keeps_its_prior_or_none(requested, recorded, message):
    with pytest.raises(ConfigError, match=message):
        warm_start.reference(requested, recorded, "sweep1")


def record(number, depth, bins, accuracy):
    params = {"maxDepth": depth, "maxBins": bins, "impurity": "gini"}
    return TrialRecord(number, f"run{number}", "ok", params, {"accuracy": accuracy}, family="dtree")


def test_trials_outside_the_space_are_dropped_with_a_count(compose_cfg, caplog):
    cfg = compose_cfg(*QUICK)  # max_depth 2..8, max_bins 8..64
    inside = [record(0, 3, 16, 0.7), record(1, 8, 64, 0.8)]
    outside = [record(2, 12, 16, 0.9), record(3, 5, 300, 0.9)]
    forest = TrialRecord(4, "run4", "ok", {"numTrees": 3}, {"accuracy": 0.9}, family="forest")
    with caplog.at_level(logging.WARNING, logger="sweep.warm_start"):
        kept = warm_start.usable([*inside, *outside, forest], cfg, "prior1")  # e.g. model=auto's
    assert kept == inside
    assert "3 of the 5 finished trials of sweep prior1 lie outside" in caplog.text
    with pytest.raises(ConfigError, match=r"none of the 2 finished trials of sweep prior1"):
        warm_start.usable(outside, cfg, "prior1", "{max_depth: {low: 10}}")
    with pytest.raises(ConfigError, match=r"sweep prior1 has no finished trial with"):
        warm_start.usable([], cfg, "prior1")


def test_the_prior_guides_tpe_from_the_first_trial(compose_cfg):
    """A prior whose good trials are deep trees: with n_startup_jobs larger than the evals, a cold
    search draws at random, the warm one goes where the prior was good. Pure hyperopt, no Spark."""
    cfg = compose_cfg(*QUICK)
    good = {7: 0.95, 8: 0.93}  # accuracy by depth; shallow trees are poor
    prior_records = [
        record(i, depth, bins, good.get(depth, 0.5 + 0.02 * depth))
        for i, (depth, bins) in enumerate(
            [(d, b) for d in range(2, 9) for b in (8, 24, 64)]  # 21 trials over the space
        )
    ]
    prior = warm_start.Prior("prior1", "1", None, prior_records)

    def depths(trials):
        found = []

        def objective(point):
            found.append(to_spark_params(point, cfg.search, family("dtree").PARAMS)["maxDepth"])
            return 0.0

        evals = len(trials.trials) + 6
        algo = partial(tpe.suggest, n_startup_jobs=10)
        rstate = np.random.default_rng(0)
        fmin(objective, SearchSpace.of(cfg).hyperopt(), algo, evals, trials=trials,
             rstate=rstate, show_progressbar=False)  # fmt: skip
        return found

    warm = depths(seeded(prior, [], cfg))
    cold = depths(Trials())
    assert all(d >= 6 for d in warm), warm  # TPE: near the prior's best depths
    assert min(cold) < 6, cold  # random over 2..8
    assert depths(seeded(prior, [], cfg)) == warm  # same prior, same seed
    marked = seeded(prior, [], cfg)
    assert sum(doc["result"]["source"] == PRIOR for doc in marked.trials) == 21


def seeded(prior: warm_start.Prior, own: list[TrialRecord], cfg) -> Trials:
    """The plain TPE scheduler's history: the prior's observations (its curves' points too),
    then this sweep's own."""
    space, metric = SearchSpace.of(cfg), cfg.sweep.metric
    seen = observations.of_records(prior.records, space, metric, PRIOR)
    return observations.trials_of(seen + observations.of_records(own, space, metric),
                                  space.labels())  # fmt: skip


# -- end to end: real Spark, a real SQLite store ---------------------------------------------------


def records(client, parent_id, cfg):
    """A sweep's finished trials as the scheduler reads them back: with their depth curves."""
    tracker = Tracker.open(client.tracking_uri)
    found = []
    for run in children(client, parent_id):
        record = record_of(run, cfg.model.family)
        record.curves = curves_of(tracker, run, cfg.sweep.metric)
        found.append(record)
    return found


def suggested(cfg, history: Trials, algo, seed):
    """What the sweep's first new trial should be: `algo` on `history`, with the first draw of
    the sweep's stream (`[seed, observations already in the history]`), fitted as the sweep fits
    it (sweep.curves.fit=top: at the top of the depth range)."""
    space = SearchSpace.of(cfg).hyperopt()
    rstate = np.random.default_rng([seed, len(history.trials)])
    [new_id] = history.new_trial_ids(1)
    history.refresh()
    [doc] = algo([new_id], Domain(lambda _: 0.0, space), history, rstate.integers(2**31 - 1))
    vals = {k: v[0] for k, v in doc["misc"]["vals"].items() if v}
    table = family("dtree").PARAMS
    params = to_spark_params(space_eval(space, vals), cfg.search, table)
    return curves.fitted_params(params, cfg.search, table, family("dtree").CURVES)


def test_a_warm_start_runs_max_evals_new_trials_guided_by_the_prior(
    compose_cfg, spark, tracking_uri
):
    client = MlflowClient(tracking_uri)
    base = (*QUICK, "sweep.seed=1", "sweep.max_evals=3", "sweep.n_startup_jobs=5")
    prior_cfg = compose_cfg(*QUICK, "sweep.max_evals=6", "sweep.n_startup_jobs=2")
    prior = run_sweep(prior_cfg, spark, Tracker.connect(prior_cfg.tracking))
    prior_children = children(client, prior.parent_run_id)

    cold_cfg = compose_cfg(*base)
    cold = run_sweep(cold_cfg, spark, Tracker.connect(cold_cfg.tracking))
    warm_cfg = compose_cfg(*base, f"sweep.warm_start={prior.parent_run_id}")
    warm = run_sweep(warm_cfg, spark, Tracker.connect(warm_cfg.tracking))
    again = run_sweep(warm_cfg, spark, Tracker.connect(warm_cfg.tracking))

    own = children(client, warm.parent_run_id)
    assert len(own) == 3 and [int(r.data.tags[run_keys.TRIAL]) for r in own] == [0, 1, 2]
    assert len(warm.trials) == 3 and warm.best.run_id in {r.info.run_id for r in own}
    params = client.get_run(warm.parent_run_id).data.params
    assert params[run_keys.WARM_START_RUN_ID] == prior.parent_run_id
    assert params[run_keys.WARM_START_TRIALS] == "6"
    assert run_keys.WARM_START_RUN_ID not in client.get_run(cold.parent_run_id).data.params
    # The prior is read, not touched: still its own six children.
    assert [r.info.run_id for r in children(client, prior.parent_run_id)] == [
        r.info.run_id for r in prior_children
    ]
    # Same prior, same seed (parallelism 1): the same points; a cold sweep tries others.
    points = [t.params for t in warm.trials]
    assert points == [t.params for t in again.trials]
    assert points != [t.params for t in cold.trials]
    # The first point is TPE's from the prior's six trials (6 >= n_startup_jobs=5), not random.
    prior_records = records(client, prior.parent_run_id, warm_cfg)

    def history():
        return seeded(warm_start.Prior(prior.parent_run_id, "", None, prior_records), [], warm_cfg)

    tpe5 = partial(tpe.suggest, n_startup_jobs=5)
    assert points[0] == suggested(warm_cfg, history(), tpe5, 1)
    assert points[0] != suggested(warm_cfg, history(), rand.suggest, 1)


def test_refused_priors_fail_before_the_data_and_any_run(compose_cfg, spark, tracking_uri):
    client = MlflowClient(tracking_uri)
    prior_cfg = compose_cfg(*QUICK, "sweep.max_evals=2", "search.max_depth.high=4")
    prior = run_sweep(prior_cfg, spark, Tracker.connect(prior_cfg.tracking))
    # A forest sweep, newer, in the same experiment: `last` must pass over it.
    forest_cfg = compose_cfg(
        *QUICK,
        "model=forest",
        "tracking.experiment=covtype-dtree",
        "sweep.max_evals=1",
        "search.num_trees.low=2",
        "search.num_trees.high=3",
    )
    forest = run_sweep(forest_cfg, spark, Tracker.connect(forest_cfg.tracking))
    trial_id = children(client, prior.parent_run_id)[0].info.run_id

    def runs():
        experiments = [e.experiment_id for e in client.search_experiments()]
        return len(client.search_runs(experiments, ""))

    before = runs()
    # A data file that does not exist: a check after the data preparation would fail on it first.
    no_data = ("data=covtype", "data.path=/nonexistent/covtype.data.gz")
    refused = [
        ("0123456789abcdef0123456789abcdef", r"sweep.warm_start: no run '0123456789abcdef"),
        (trial_id, rf"sweep.warm_start: run {trial_id} is not a sweep parent \(a trial of sweep"),
        (forest.parent_run_id, r"tuned model=forest, this sweep tunes model=dtree.*model=forest"),
        (prior.parent_run_id, r"none of the 2 finished trials of sweep .* lies inside"),
    ]
    for ref, message in refused:
        extra = ("search.max_depth.low=6",) if ref == prior.parent_run_id else ()
        cfg = compose_cfg(*QUICK, *no_data, f"sweep.warm_start={ref}", *extra)
        with pytest.raises(ConfigError, match=message):
            run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    cfg = compose_cfg(*QUICK, *no_data, "sweep.warm_start=last", "tracking.experiment=empty")
    with pytest.raises(ConfigError, match=r"sweep.warm_start: there is no other model=dtree"):
        run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert runs() == before

    # `last`: the newest dtree sweep of this experiment, the forest's notwithstanding; with
    # parallel trials too, the budget is this sweep's own.
    cfg = compose_cfg(*QUICK, "sweep.max_evals=2", "sweep.warm_start=last", "sweep.parallelism=2")
    last = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert len(children(client, last.parent_run_id)) == 2 == len(last.trials)
    params = client.get_run(last.parent_run_id).data.params
    assert params[run_keys.WARM_START_RUN_ID] == prior.parent_run_id
    assert params[run_keys.WARM_START_TRIALS] == "2"


def test_a_resumed_warm_start_rereads_its_recorded_prior(compose_cfg, spark, tracking_uri):
    client = MlflowClient(tracking_uri)
    prior_cfg = compose_cfg(*QUICK, "sweep.max_evals=3", "sweep.n_startup_jobs=2")
    prior = run_sweep(prior_cfg, spark, Tracker.connect(prior_cfg.tracking))
    warm_cfg = compose_cfg(*QUICK, "sweep.max_evals=2", f"sweep.warm_start={prior.parent_run_id}")
    warm = run_sweep(warm_cfg, spark, Tracker.connect(warm_cfg.tracking))

    # Resumed without the key (or with `last`, as the interrupted sweep's command has it): the
    # prior it recorded is read again and the sweep goes on to max_evals of its own.
    for extra in ((), ("sweep.warm_start=last",)):
        evals = 3 if not extra else 4
        cfg = compose_cfg(
            *QUICK, f"sweep.max_evals={evals}", f"sweep.resume={warm.parent_run_id}", *extra
        )
        resumed = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
        assert resumed.parent_run_id == warm.parent_run_id
        assert len(children(client, warm.parent_run_id)) == evals == len(resumed.trials)
    params = client.get_run(warm.parent_run_id).data.params
    assert params[run_keys.WARM_START_RUN_ID] == prior.parent_run_id
    assert params[run_keys.WARM_START_TRIALS] == "3"
    # The last trial is TPE's from the prior's 3 trials and the sweep's own 3 before it.
    own = records(client, warm.parent_run_id, warm_cfg)
    prior_records = records(client, prior.parent_run_id, warm_cfg)
    history = seeded(
        warm_start.Prior(prior.parent_run_id, "", None, prior_records), own[:3], warm_cfg
    )
    tpe2 = partial(tpe.suggest, n_startup_jobs=2)
    assert own[3].params == suggested(warm_cfg, history, tpe2, 0)

    cold_cfg = compose_cfg(*QUICK, "sweep.max_evals=1")
    cold = run_sweep(cold_cfg, spark, Tracker.connect(cold_cfg.tracking))
    before = len(client.search_runs([cold.experiment_id], ""))
    for ref, resume, message in [
        (cold.parent_run_id, warm.parent_run_id, r"was warm-started from .*, not "),
        (prior.parent_run_id, cold.parent_run_id, r"started without a warm start"),
    ]:
        cfg = compose_cfg(*QUICK, f"sweep.warm_start={ref}", f"sweep.resume={resume}")
        with pytest.raises(ConfigError, match=message):
            run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    assert len(client.search_runs([cold.experiment_id], "")) == before
