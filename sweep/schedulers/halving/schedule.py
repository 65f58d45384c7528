"""Owns the successive-halving schedule (sweep.scheduler=halving), as pure functions: the rungs'
training fractions, which configurations form a bracket, who is promoted, and how TPE ranks
configurations that stopped on different rungs. No Spark, no MLflow, no hyperopt: numbers in,
numbers out.

The schedule, for `eta` and `min_fraction`:
- rungs are the fractions eta^-k of the training split, from the smallest not below
  `min_fraction` up to 1.0 (min_fraction 0.1, eta 3: 1/9, 1/3, 1);
- `sweep.max_evals` counts configurations: they are sampled in brackets of eta^(rungs-1) (9
  above), the last one possibly smaller; every configuration of a bracket is fitted on the
  smallest fraction, then the best 1/eta of those that finished (at least one, so every bracket
  reaches the full data) are fitted on the next fraction, and so on up to 1.0; a smaller last
  bracket starts on a higher rung (3 configurations of eta 3: on 1/3);
- TPE learns from every configuration, ranked by the highest rung it reached, then by its score
  there (`ranked_losses`);
- the winner is the best fit at fraction 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sweep.errors import ConfigError

MAX_RUNGS = 6  # a deeper ladder would only spend fits below the several-second floor of a fit


def validate_fidelity(min_fraction: float, eta: int) -> None:
    """Raise ConfigError naming the key, the value and what would be valid."""
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise ConfigError(
            f"{eta!r} is not valid",
            where="sweep.fidelity.eta",
            fix="Use an integer >= 2 (3 keeps the best third of each rung)",
        )
    if not isinstance(min_fraction, int | float) or not 0 < min_fraction <= 1:
        raise ConfigError(
            f"{min_fraction!r} is not valid",
            where="sweep.fidelity.min_fraction",
            fix="Use a fraction of the training split in (0, 1], e.g. 0.1",
        )
    if len(rung_fractions(min_fraction, eta)) > MAX_RUNGS:
        raise ConfigError(
            f"{min_fraction!r} with eta={eta} gives {len(rung_fractions(min_fraction, eta))} "
            f"rungs, more than {MAX_RUNGS}",
            where="sweep.fidelity.min_fraction",
            fix="Use a larger min_fraction (a fit has a floor of several seconds however "
            "little data it gets) or a larger eta",
        )


def rung_fractions(min_fraction: float, eta: int) -> tuple[float, ...]:
    """The training fractions of the rungs, smallest first, the last always 1.0."""
    # The largest k with eta^-k >= min_fraction; the epsilon keeps 1/9 for min_fraction=1/9.
    top = math.floor(math.log(1 / min_fraction, eta) + 1e-9)
    return tuple(float(eta ** -(top - k)) for k in range(top + 1))


def bracket_size(rungs: int, eta: int) -> int:
    """Configurations a full bracket starts on the smallest fraction: one reaches 1.0."""
    return eta ** (rungs - 1)


def bracket_of(config: int, size: int) -> int:
    return config // size


def bracket_configs(bracket: int, size: int, max_evals: int) -> range:
    """The configuration numbers of a bracket; the last bracket is cut at max_evals."""
    return range(bracket * size, min((bracket + 1) * size, max_evals))


def brackets(max_evals: int, size: int) -> int:
    return math.ceil(max_evals / size)


def start_rung(configs: int, size: int, eta: int) -> int:
    """The rung a bracket of `configs` starts on: 0 for a full bracket of `size`; a smaller (the
    last) bracket starts higher, as a Hyperband bracket, so that it still halves towards one
    configuration on the full data instead of fitting few configurations on every rung."""
    rungs = round(math.log(size, eta)) + 1
    return rungs - 1 - math.floor(math.log(max(configs, 1), eta) + 1e-9)


def promoted_count(finished: int, eta: int) -> int:
    """How many of a rung's finished configurations move up: the best 1/eta, at least one."""
    return max(1, finished // eta) if finished else 0


def promote(scores: Mapping[int, float], eta: int) -> list[int]:
    """The configurations (by number) that move up from a rung, given the finished ones' scores
    (higher is better); ties go to the earlier configuration, so the schedule is deterministic."""
    ranked = sorted(scores, key=lambda config: (-scores[config], config))
    return sorted(ranked[: promoted_count(len(ranked), eta)])


def ranked_losses(reached: Mapping[int, tuple[int, float]]) -> dict[int, float]:
    """TPE's loss of each configuration, from (the highest rung it finished, its score there;
    higher is better): its rank, 0 the best. A configuration that got further ranks above every
    one that stopped lower; among those that stopped on the same rung, the higher score ranks
    first, so scores are only compared on one fraction of the data. Ties go to the earlier
    configuration. TPE only reads the order of the losses, so the rank loses nothing."""
    order = sorted(reached, key=lambda c: (-reached[c][0], -reached[c][1], c))
    return {config: float(rank) for rank, config in enumerate(order)}


def total_fits(max_evals: int, rungs: int, eta: int) -> int:
    """Fits a sweep makes when none fails: for the README's and the bench's arithmetic."""
    size = bracket_size(rungs, eta)
    fits = 0
    for b in range(brackets(max_evals, size)):
        n = len(bracket_configs(b, size, max_evals))
        for _ in range(start_rung(n, size, eta), rungs):
            fits += n
            n = promoted_count(n, eta)
    return fits
