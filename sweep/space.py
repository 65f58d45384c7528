"""Pure translation: search config → hyperopt space, and hyperopt point → Spark parameters.

Nothing here touches Spark or MLflow. The table `PARAMS` is the single list of what may be searched:
the snake_case config name, the Spark `DecisionTreeClassifier` parameter it becomes, and the range
Spark accepts.

An `int`/`float` entry with `low == high` pins that parameter: it is not searched (Hyperopt
refuses an empty range) but reaches Spark, and every child's params, as that value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hyperopt import hp

from sweep.config import ParamSpec
from sweep.errors import ConfigError

TYPES = ("int", "float", "choice")


@dataclass(frozen=True)
class SparkParam:
    spark_name: str
    kind: str  # "int", "float" or "choice"
    low: float | None = None  # inclusive
    high: float | None = None  # inclusive unless high_exclusive
    high_exclusive: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        if self.high is None:
            return f">= {self.low}"
        return f"{self.low} .. {self.high}" + (" (exclusive)" if self.high_exclusive else "")

    def accepts(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "int" and float(value) != int(value):
            return False
        if self.low is not None and value < self.low:
            return False
        if self.high is None:
            return True
        return value < self.high if self.high_exclusive else value <= self.high


PARAMS: dict[str, SparkParam] = {
    "max_depth": SparkParam("maxDepth", "int", 0, 30),
    "max_bins": SparkParam("maxBins", "int", 2),
    "impurity": SparkParam("impurity", "choice", choices=("gini", "entropy")),
    "min_instances_per_node": SparkParam("minInstancesPerNode", "int", 1),
    "min_info_gain": SparkParam("minInfoGain", "float", 0.0),
    "min_weight_fraction_per_node": SparkParam(
        "minWeightFractionPerNode", "float", 0.0, 0.5, high_exclusive=True
    ),
}


def validate_search(search: Mapping[str, ParamSpec]) -> None:
    """Raise ConfigError naming the first invalid entry of the search space."""
    if not search:
        raise ConfigError(
            "the search space is empty",
            where="search",
            fix="Select conf/search/dtree.yaml (search=dtree) or add entries",
        )
    for name, spec in search.items():
        _validate_entry(name, spec)


def _validate_entry(name: str, spec: ParamSpec) -> None:
    key = f"search.{name}"
    if name not in PARAMS:
        raise ConfigError(
            f"unknown parameter {name!r}",
            where=key,
            fix=f"Searchable DecisionTreeClassifier parameters are: {', '.join(PARAMS)}",
        )
    param = PARAMS[name]
    if spec.type not in TYPES:
        raise ConfigError(
            f"unknown type {spec.type!r}", where=f"{key}.type", fix=f"Use one of {', '.join(TYPES)}"
        )
    if spec.type == "choice":
        _validate_choice(key, spec, param)
        return
    if param.kind == "choice":
        raise ConfigError(
            f"{name} takes categorical values, not type {spec.type!r}",
            where=f"{key}.type",
            fix=f"Use type: choice with values {param.describe()}",
        )
    if param.kind == "int" and spec.type == "float":
        raise ConfigError(
            f"{name} is an integer parameter", where=f"{key}.type", fix="Use type: int"
        )
    for bound in ("low", "high"):
        value = getattr(spec, bound)
        if value is None:
            raise ConfigError(
                "missing bound",
                where=f"{key}.{bound}",
                fix=f"Give {bound} within {param.describe()}",
            )
        if not param.accepts(value):
            raise ConfigError(
                f"{_num(value)!r} is outside what Spark accepts for {param.spark_name}",
                where=f"{key}.{bound}",
                fix=f"Use a value in {param.describe()}",
            )
    if spec.low > spec.high:
        raise ConfigError(
            f"low ({_num(spec.low)}) is greater than high ({_num(spec.high)})",
            where=key,
            fix="Swap the bounds or give low <= high",
        )
    if spec.log and spec.low <= 0:
        raise ConfigError(
            f"a log-scaled range needs low > 0, got {_num(spec.low)}",
            where=f"{key}.low",
            fix="Raise low above 0 or set log: false",
        )


def _validate_choice(key: str, spec: ParamSpec, param: SparkParam) -> None:
    if not spec.values:
        raise ConfigError(
            "a choice needs at least one value",
            where=f"{key}.values",
            fix=f"Give values such as [{', '.join(map(str, param.choices or [1]))}]",
        )
    for i, value in enumerate(spec.values):
        if not param.accepts(value):
            raise ConfigError(
                f"{value!r} is not valid for {param.spark_name}",
                where=f"{key}.values[{i}]",
                fix=f"Use {param.describe()}",
            )


def _num(value: Any) -> Any:
    """4.0 → 4 in messages: OmegaConf stores every bound as a float."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def pinned(spec: ParamSpec) -> bool:
    """A range of one value (`low == high`): fixed, not searched."""
    return spec.type != "choice" and spec.low == spec.high


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


def to_spark_params(point: Mapping[str, Any], search: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """A sampled point (config names, hyperopt values) → Spark parameter names and exact types.

    hyperopt's q-distributions return floats; integer parameters reach Spark as Python ints.
    """
    params: dict[str, Any] = {}
    for name, value in point.items():
        param = PARAMS[name]
        if param.kind == "int":
            value = int(round(value))
            spec = search[name]
            if spec.type == "int":  # q-rounding of a log range may step just outside
                value = min(max(value, int(spec.low)), int(spec.high))
        elif param.kind == "float":
            value = float(value)
        params[param.spark_name] = value
    return params


def from_logged(params: Mapping[str, str]) -> dict[str, Any]:
    """Spark parameters as MLflow stored them (strings) → typed values, to refit a trial."""
    kinds = {p.spark_name: p.kind for p in PARAMS.values()}
    convert = {"int": int, "float": float, "choice": str}
    return {name: convert[kinds[name]](value) for name, value in params.items() if name in kinds}
