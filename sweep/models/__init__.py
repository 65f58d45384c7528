"""Owns the model families a sweep can tune. Each family is one module of this package with:

- `NAME` (what `model=<NAME>` selects) and `ESTIMATOR` (the Spark class, for messages);
- `PARAMS`: its searchable parameters (config name → `SparkParam`: Spark name, kind, range);
- `estimator(params, fixed)`: the Spark estimator for a sampled point plus the fixed settings;
- `describe(fitted)`: what a trial logs about the fitted model, as metrics.

Families are found here by module name, so a new one is a module plus its `conf/model/<name>.yaml`
and `conf/search/<name>.yaml`; nothing else in the package names a family. `load_config` checks a
composed config against them (`model=auto` searches every family whose space it nests).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from omegaconf import DictConfig

from sweep import config
from sweep.config import AUTO, SweepConfig
from sweep.errors import ConfigError
from sweep.params import Table, validate_search


@cache
def families() -> dict[str, ModuleType]:
    """Every family module of this package, by its NAME."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.NAME] = module
    return found


def family(name: str) -> ModuleType:
    return families()[name]


def tables() -> dict[str, Table]:
    """Each family's searchable parameters, for validation and for reading logged params."""
    return {name: module.PARAMS for name, module in families().items()}


def load_config(composed: DictConfig) -> SweepConfig:
    """The composed config typed and checked (`sweep.config.load`), then its model family and
    search space checked against the families' tables: the one way in for every entry point."""
    cfg = config.load(composed)
    known = sorted(families())
    chosen = cfg.model.family
    if chosen != AUTO and chosen not in known:
        raise ConfigError(
            f"{chosen!r} is not valid", where="model", fix=f"Use one of {', '.join(known)}, {AUTO}"
        )
    if chosen != AUTO:
        validate_search(cfg.search, chosen, tables())
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
    return cfg
