"""sweep.search.observations: every source of observations as one Trials TPE models from, and a
trial's curves as observations of their own params. Pure: no Spark, no store."""

import pytest
from hyperopt import Trials, base, tpe

from sweep.records import TrialRecord
from sweep.search import observations
from sweep.search.observations import CURVE, PRIOR, TRIAL, Observation
from sweep.search.space import SearchSpace


def test_the_built_trials_are_a_history_tpe_models_from(compose_cfg):
    """Past n_startup_jobs TPE proposes points near the best ones, not at random."""
    cfg = compose_cfg("+experiment=smoke")
    space = SearchSpace.of(cfg)
    domain = base.Domain(lambda _: {"status": "ok", "loss": 0.0}, space.hyperopt())
    found = [
        Observation({"max_depth": float(2 + c % 7), "max_bins": float(8 + c), "impurity": c % 2},
                    -(2 + c % 7) / 10)  # the loss favours deep trees: TPE must move to depth 8
        for c in range(12)
    ]  # fmt: skip
    history = observations.trials_of(found, space.labels())
    assert isinstance(history, Trials) and len(history.trials) == 12
    assert history.losses() == [o.loss for o in found]
    depths = [
        tpe.suggest([100 + i], domain, history, seed, n_startup_jobs=8)[0]["misc"]["vals"][
            "max_depth"
        ][0]
        for i, seed in enumerate(range(20))
    ]
    assert sum(d >= 6 for d in depths) >= 14  # random over 2..8 would give about 8 of 20


def _record(**curves):
    return TrialRecord(
        0, "r", "ok", {"maxDepth": 8, "maxBins": 20, "impurity": "gini"},
        metrics={"accuracy": 0.80}, family="dtree", curves=curves,
    )  # fmt: skip


def test_each_point_of_a_curve_is_an_observation_of_its_depth(compose_cfg):
    cfg = compose_cfg("+experiment=smoke", "search.max_depth.low=2", "search.max_depth.high=8")
    space = SearchSpace.of(cfg)
    record = _record(maxDepth={d: {"accuracy": 0.5 + d / 100} for d in range(2, 9)})
    seen = observations.of_record(record, space, "accuracy")
    assert [(o.vals["max_depth"], o.loss, o.source) for o in seen] == [
        (8, -0.80, TRIAL),  # the fit itself, with its own metric
        *((d, pytest.approx(-(0.5 + d / 100)), CURVE) for d in range(2, 8)),
    ]
    assert all(o.vals["max_bins"] == 20 and o.vals["impurity"] == 0 for o in seen)
    prior = observations.of_record(record, space, "accuracy", PRIOR)
    assert {o.source for o in prior} == {PRIOR}  # a warm start's curve points stay its own
    narrower = SearchSpace.of(compose_cfg("+experiment=smoke", "search.max_depth.low=5",
                                          "search.max_depth.high=8"))  # fmt: skip
    assert [o.vals["max_depth"] for o in observations.of_record(record, narrower, "accuracy")] == [
        8, 5, 6, 7,
    ]  # fmt: skip


def test_a_trial_at_its_best_point_takes_that_points_params_and_metrics():
    record = _record(maxDepth={6: {"accuracy": 0.85}, 7: {"accuracy": 0.85}, 8: {"accuracy": 0.8}})
    best = record.at_best("accuracy")
    assert best.params["maxDepth"] == 6 and best.metrics == {"accuracy": 0.85}
    assert best.run_id == record.run_id and record.params["maxDepth"] == 8  # a copy
    assert _record().at_best("accuracy") is not None
    worse = _record(maxDepth={6: {"accuracy": 0.7}})
    assert worse.at_best("accuracy") is worse  # the fit itself is best
    lower = TrialRecord(0, "r", "ok", {"maxDepth": 8}, metrics={"rmse": 2.0},
                        curves={"maxDepth": {5: {"rmse": 1.5}, 6: {"rmse": 1.7}}})  # fmt: skip
    assert lower.at_best("rmse").params["maxDepth"] == 5  # lower is better for rmse
