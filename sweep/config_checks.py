"""Owns the checks of a typed config that need the rest of the package: its model family and
search space against the families' tables, the halving schedule's own rules. `sweep.config`
imports nothing of the package, so these run here, and `load_config` is the one way in for
every entry point (CLI, `sweep.select`, the benchmark, the tests).
"""

from __future__ import annotations

from omegaconf import DictConfig

from sweep import config, halving
from sweep.config import AUTO, SweepConfig
from sweep.data.features import check_search_bins
from sweep.errors import ConfigError
from sweep.models import families, tables
from sweep.params import validate_search


def load_config(composed: DictConfig) -> SweepConfig:
    """The composed config typed and checked (`sweep.config.load`), then the halving schedule,
    the model family and the search space (against the families' tables; categorical features
    need enough bins): the one way in for every entry point."""
    cfg = config.load(composed)
    if cfg.sweep.scheduler == "halving":
        halving.validate_fidelity(cfg.sweep.fidelity.min_fraction, cfg.sweep.fidelity.eta)
        if cfg.sweep.warm_start is not None:
            raise ConfigError(
                "a halving sweep cannot be warm-started: its TPE history is rebuilt from its "
                "own fits, ranked by the rung each reached, before every ask",
                where="sweep.warm_start",
                fix="Drop sweep.warm_start, or run without sweep.scheduler=halving",
            )
    known = sorted(families())
    chosen = cfg.model.family
    if chosen != AUTO and chosen not in known:
        raise ConfigError(
            f"{chosen!r} is not valid", where="model", fix=f"Use one of {', '.join(known)}, {AUTO}"
        )
    if chosen != AUTO:
        validate_search(cfg.search, chosen, tables())
        check_search_bins(cfg.data.features, cfg.search.get("max_bins"))
        return cfg
    if not cfg.search:
        raise ConfigError(
            "model=auto has no family to search",
            where="search",
            fix="Select conf/search/auto.yaml (search=auto), or give search.<family> entries",
        )
    for name, entries in cfg.search.items():
        if name not in known:
            raise ConfigError(
                f"{name!r} is not a model family",
                where=f"search.{name}",
                fix=f"Under model=auto, search.<family> is one of {', '.join(known)}",
            )
        validate_search(entries, name, tables(), prefix=f"search.{name}")
        check_search_bins(cfg.data.features, entries.get("max_bins"), prefix=f"search.{name}")
    return cfg
