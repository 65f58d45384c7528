"""Pure translation: search config → hyperopt space, and hyperopt point → Spark parameters.

Nothing here touches Spark or MLflow. What may be searched, and as which Spark parameter, is the
model family's table (`sweep.models`, rows defined in `sweep.params`); a pinned entry
(`low == high`) is a constant of the space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hyperopt import hp

from sweep.config import ParamSpec
from sweep.params import Table, pinned


def build_space(search: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """Hyperopt space with one expression per searched parameter, labelled by its config name;
    a pinned parameter is a constant in the space, so the objective still receives it."""
    return {name: _expression(name, spec) for name, spec in search.items()}


def _expression(name: str, spec: ParamSpec) -> Any:
    if pinned(spec):
        return spec.low
    if spec.type == "choice":
        return hp.choice(name, list(spec.values))
    if spec.type == "int":
        if spec.log:
            return hp.qloguniform(name, math.log(spec.low), math.log(spec.high), 1)
        return hp.quniform(name, spec.low, spec.high, 1)
    if spec.log:
        return hp.loguniform(name, math.log(spec.low), math.log(spec.high))
    return hp.uniform(name, spec.low, spec.high)


def to_spark_params(
    point: Mapping[str, Any], search: Mapping[str, ParamSpec], table: Table
) -> dict[str, Any]:
    """A sampled point (config names, hyperopt values) → Spark parameter names and exact types.

    hyperopt's q-distributions return floats; integer parameters reach Spark as Python ints.
    """
    params: dict[str, Any] = {}
    for name, value in point.items():
        param = table[name]
        if param.kind == "int":
            value = int(round(value))
            spec = search[name]
            if spec.type == "int":  # q-rounding of a log range may step just outside
                value = min(max(value, int(spec.low)), int(spec.high))
        elif param.kind == "float":
            value = float(value)
        params[param.spark_name] = value
    return params


def from_logged(params: Mapping[str, str], table: Table) -> dict[str, Any]:
    """Spark parameters as MLflow stored them (strings) → typed values, to refit a trial."""
    kinds = {p.spark_name: p.kind for p in table.values()}
    convert = {"int": int, "float": float, "choice": str}
    return {name: convert[kinds[name]](value) for name, value in params.items() if name in kinds}
