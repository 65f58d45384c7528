"""Owns the model families a sweep can tune. Each family is one module of this package with:

- `NAME` (what `model=<NAME>` selects) and `ESTIMATOR` (the Spark class, for messages);
- `PARAMS`: its searchable parameters (config name → `SparkParam`: Spark name, kind, range);
- `estimator(params, fixed, features, label, task, weight)`: the Spark estimator of the task
  (classifier or regressor) for a sampled point plus the fixed settings;
- `describe(fitted)`: what a trial logs about the fitted model, as metrics;
- `CURVES`: the Spark params `sweep.curves` walks on a fitted model (a depth cut, a tree prefix).

Families are found here by module name, so a new one is a module plus its `conf/model/<name>.yaml`
and `conf/search/<name>.yaml`; nothing else in the package names a family.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from sweep.params import Table


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
