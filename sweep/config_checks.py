"""Owns the checks of a typed config that need the rest of the package: its model family and
search space against the families' tables, the halving schedule's own rules. `sweep.config`
imports nothing of the package, so these run here, and `load_config` is the one way in for
every entry point (CLI, `sweep.select`, the benchmark, the tests).
"""

from __future__ import annotations

from omegaconf import DictConfig

from sweep import config, halving
from sweep.config import AUTO, ParamSpec, SweepConfig
from sweep.data.features import check_search_bins, check_search_features
from sweep.errors import ConfigError
from sweep.models import families, tables
from sweep.params import ENCODING, validate_search


def load_config(composed: DictConfig) -> SweepConfig:
    """The composed config typed and checked (`sweep.config.load`), then the halving schedule,
    the model family and the search space (against the families' tables; a searched encoding is
    a choice of onehot/categorical, in every family's space or in none; categorical features
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
        _check_encodings(cfg, cfg.search)
        return cfg
    if not cfg.search:
        raise ConfigError(
            "model=auto has no family to search",
            where="search",
            fix="Select sweep/conf/search/auto.yaml (search=auto), or give search.<family> entries",
        )
    for name, entries in cfg.search.items():
        if name not in known:
            raise ConfigError(
                f"{name!r} is not a model family",
                where=f"search.{name}",
                fix=f"Under model=auto, search.<family> is one of {', '.join(known)}",
            )
        validate_search(entries, name, tables(), prefix=f"search.{name}")
        _check_encodings(cfg, entries, prefix=f"search.{name}")
    searching = [name for name, entries in cfg.search.items() if ENCODING in entries]
    if searching and len(searching) < len(cfg.search):
        missing = next(name for name in cfg.search if name not in searching)
        raise ConfigError(
            f"search.{searching[0]}.features searches the encoding, but search.{missing} does "
            "not: with model=auto the encoding is searched in every family's space or in none",
            where=f"search.{missing}.features",
            fix=f"Add search.{missing}.features as well, or drop search.<family>.features",
        )
    return cfg


def _check_encodings(
    cfg: SweepConfig, entries: dict[str, ParamSpec], prefix: str = "search"
) -> None:
    """A searched encoding (`<prefix>.features`) is valid, not combined with halving, and each
    encoding a trial can fit on gets enough bins."""
    spec = entries.get(ENCODING)
    if spec is None:
        check_search_bins(cfg.data.features, entries.get("max_bins"), prefix=prefix)
        return
    encodings = check_search_features(spec, prefix)
    if cfg.sweep.scheduler == "halving":  # its rung samples are of one encoding's training split
        raise ConfigError(
            "a halving sweep fits on one encoding: its rung samples are drawn once, from one "
            "prepared training split",
            where=f"{prefix}.features",
            fix="Drop the searched features and pick one with data.features=onehot|categorical, "
            "or run without sweep.scheduler=halving",
        )
    for encoding in encodings:
        check_search_bins(encoding, entries.get("max_bins"), prefix=prefix, searched=True)
