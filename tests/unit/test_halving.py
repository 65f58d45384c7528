"""sweep.halving's schedule, the config checks and the pure helpers around it: no Spark."""

import math

import pytest
from hydra.errors import ConfigCompositionException

from sweep.errors import ConfigError
from sweep.schedulers.halving import schedule as halving
from sweep.time_plot import best_so_far, best_vs_time


@pytest.mark.parametrize(
    ("min_fraction", "eta", "fractions"),
    [
        (0.1, 3, (1 / 9, 1 / 3, 1.0)),
        (1 / 9, 3, (1 / 9, 1 / 3, 1.0)),  # exactly a power of eta: kept, not rounded away
        (0.12, 3, (1 / 3, 1.0)),  # the smallest power of 1/eta not below min_fraction
        (0.3, 3, (1 / 3, 1.0)),
        (1.0, 3, (1.0,)),  # one rung: plain TPE on the full data
        (0.25, 2, (0.25, 0.5, 1.0)),
        (0.05, 4, (1 / 16, 1 / 4, 1.0)),
    ],
)
def test_rung_fractions(min_fraction, eta, fractions):
    got = halving.rung_fractions(min_fraction, eta)
    assert len(got) == len(fractions) and got[-1] == 1.0
    assert all(math.isclose(a, b) for a, b in zip(got, fractions, strict=True))
    assert got[0] >= min_fraction


@pytest.mark.parametrize(
    ("scores", "eta", "promoted"),
    [
        ({0: 0.5, 1: 0.9, 2: 0.7, 3: 0.1, 4: 0.8, 5: 0.2, 6: 0.3, 7: 0.4, 8: 0.6}, 3, [1, 2, 4]),
        ({0: 0.5, 1: 0.9, 2: 0.7}, 3, [1]),
        ({3: 0.5, 4: 0.9}, 3, [4]),  # fewer than eta finished: still one moves up
        ({7: 0.8, 5: 0.8, 6: 0.1}, 3, [5]),  # a tie goes to the earlier configuration
        ({0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4}, 2, [2, 3]),
        ({}, 3, []),  # every fit of the rung failed: nobody moves up
    ],
)
def test_only_the_best_one_in_eta_move_up(scores, eta, promoted):
    assert halving.promote(scores, eta) == promoted


@pytest.mark.parametrize(
    ("configs", "start"),
    [(9, 0), (8, 1), (3, 1), (2, 2), (1, 2)],
)
def test_a_smaller_last_bracket_starts_on_a_higher_rung(configs, start):
    assert halving.start_rung(configs, size=9, eta=3) == start


@pytest.mark.parametrize(
    ("max_evals", "rungs", "eta", "fits"),
    [
        (9, 3, 3, 9 + 3 + 1),
        (27, 3, 3, 3 * 13),
        (10, 3, 3, 13 + 1),  # the tenth configuration alone starts on the full data
        (12, 3, 3, 13 + 3 + 1),
        (6, 2, 3, 2 * (3 + 1)),
        (5, 1, 3, 5),
    ],
)
def test_total_fits(max_evals, rungs, eta, fits):
    assert halving.total_fits(max_evals, rungs, eta) == fits


def test_brackets_cut_at_max_evals():
    size = halving.bracket_size(3, 3)
    assert size == 9 and halving.brackets(20, size) == 3
    assert list(halving.bracket_configs(2, size, 20)) == [18, 19]
    assert halving.bracket_of(19, size) == 2


def test_tpe_ranks_configurations_by_the_rung_they_reached_then_by_score():
    reached = {
        0: (0, 0.83),  # stopped on 1/9 with the best score there: still below every promoted one
        1: (1, 0.88),
        2: (2, 0.93),
        3: (0, 0.70),
        4: (1, 0.89),
        5: (0, 0.83),  # the same as 0: the earlier configuration first
    }
    losses = halving.ranked_losses(reached)
    assert sorted(losses, key=losses.get) == [2, 4, 1, 0, 5, 3]
    assert sorted(losses.values()) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert halving.ranked_losses({}) == {}


@pytest.mark.parametrize(
    ("min_fraction", "eta", "key"),
    [
        (0.0, 3, "sweep.fidelity.min_fraction"),
        (-0.1, 3, "sweep.fidelity.min_fraction"),
        (1.5, 3, "sweep.fidelity.min_fraction"),
        (0.1, 1, "sweep.fidelity.eta"),
        (0.1, 0, "sweep.fidelity.eta"),
        (0.001, 2, "sweep.fidelity.min_fraction"),  # 10 rungs: below a fit's floor
    ],
)
def test_bad_fidelity_values_name_the_key(min_fraction, eta, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        halving.validate_fidelity(min_fraction, eta)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sweep.scheduler=hyperband", r"sweep\.scheduler: 'hyperband' is not valid.*none, halving"),
        ("sweep.fidelity.eta=1", r"sweep\.fidelity\.eta: 1 is not valid.*integer >= 2"),
        ("sweep.fidelity.min_fraction=0", r"sweep\.fidelity\.min_fraction: 0\.0 is not valid"),
        ("sweep.fidelity.min_fraction=1.5", r"sweep\.fidelity\.min_fraction: 1\.5.*\(0, 1\]"),
        ("sweep.warm_start=last", r"sweep\.warm_start: a halving sweep cannot be warm-started"),
    ],
)
def test_bad_scheduler_config_fails_before_any_work(compose_cfg, override, message):
    with pytest.raises(ConfigError, match=message):
        compose_cfg("+experiment=smoke", "sweep.scheduler=halving", override)


def test_a_fractional_eta_fails_at_composition(compose_cfg):
    with pytest.raises(ConfigCompositionException, match=r"sweep\.fidelity\.eta=2\.5"):
        compose_cfg("+experiment=smoke", "sweep.scheduler=halving", "sweep.fidelity.eta=2.5")


def test_fidelity_values_are_not_checked_without_the_scheduler(compose_cfg):
    cfg = compose_cfg("+experiment=smoke", "sweep.fidelity.eta=1")
    assert cfg.sweep.scheduler == "none"


def test_best_so_far_counts_only_fits_on_the_whole_training_split():
    points = [(1.0, 0.9, 1 / 3), (2.0, 0.7, 1.0), (3.0, 0.8, 1.0), (4.0, 0.75, 1.0)]
    assert best_so_far(points) == [(2.0, 0.7), (3.0, 0.8)]
    figure = best_vs_time({"a": points, "b": []}, "accuracy")
    assert figure.axes[0].get_legend().get_texts()[0].get_text() == "a: 0.8000"
