"""Owns what may be searched and how a search entry is checked: the `SparkParam` row of a model
family's table (config name → Spark parameter, kind, the range Spark accepts) and the validation
of `search.*` against the tables. Pure; depends only on `sweep.errors`, so `sweep.config` and the
model families (`sweep.models`) use it without an import cycle.

An `int`/`float` entry with `low == high` is pinned: not searched (Hyperopt refuses an empty
range), it reaches Spark, and every child's params, as that value.

One entry is no Spark parameter: `features` (ENCODING), the feature encoding as a choice (its
values are checked by `sweep.data.features.check_search_features`). `sweep.space` takes it out of
a sampled point and hands it to the trial as its encoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sweep.errors import ConfigError

if TYPE_CHECKING:
    from sweep.config import ParamSpec

Table = Mapping[str, "SparkParam"]  # a family's searchable parameters by config name

TYPES = ("int", "float", "choice")
ENCODING = "features"  # the search entry of the feature encoding, in every family's space


@dataclass(frozen=True)
class SparkParam:
    spark_name: str
    kind: str  # "int", "float" or "choice"
    low: float | None = None  # inclusive unless low_exclusive
    high: float | None = None  # inclusive unless high_exclusive
    high_exclusive: bool = False
    low_exclusive: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        if self.high is None:
            return f">= {self.low}"
        low = f"{self.low} (exclusive)" if self.low_exclusive else f"{self.low}"
        high = f"{self.high} (exclusive)" if self.high_exclusive else f"{self.high}"
        return f"{low} .. {high}"

    def accepts(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "int" and float(value) != int(value):
            return False
        if self.low is not None and (value <= self.low if self.low_exclusive else value < self.low):
            return False
        if self.high is None:
            return True
        return value < self.high if self.high_exclusive else value <= self.high


def pinned(spec: ParamSpec) -> bool:
    """A range of one value (`low == high`): fixed, not searched."""
    return spec.type != "choice" and spec.low == spec.high


def validate_search(
    search: Mapping[str, ParamSpec],
    family: str,
    tables: Mapping[str, Table],
    prefix: str = "search",
) -> None:
    """Raise ConfigError naming the first invalid entry of `family`'s search space (its keys
    under `prefix`); `tables` holds every family's table, so a parameter of another family is
    named as such."""
    if not search:
        raise ConfigError(
            "the search space is empty",
            where=prefix,
            fix=f"Select sweep/conf/search/{family}.yaml (search={family}) or add entries",
        )
    for name, spec in search.items():
        if name == ENCODING:  # not a Spark parameter: sweep.data.features checks it
            continue
        _validate_entry(f"{prefix}.{name}", name, spec, family, tables)


def _validate_entry(
    key: str, name: str, spec: ParamSpec, family: str, tables: Mapping[str, Table]
) -> None:
    table = tables[family]
    if name not in table:
        owners = [f"model={other}" for other, t in tables.items() if name in t]
        what = f"{name} is a parameter of {' and '.join(owners)}, not of model={family}"
        raise ConfigError(
            what if owners else f"unknown parameter {name!r} for model={family}",
            where=key,
            fix=f"Searchable parameters of model={family} are: {', '.join(table)}",
        )
    param = table[name]
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
