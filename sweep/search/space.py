"""Pure translation: search config → hyperopt space, and hyperopt point → Spark parameters.

Nothing here touches Spark or MLflow. What may be searched, and as which Spark parameter, is the
model family's table (`sweep.models`, rows defined in `sweep.params`); a pinned entry
(`low == high`) is a constant of the space.

One family's space is flat: one hyperopt label per entry, named by its config name. Under
`model=auto` the space is nested: an `hp.choice` labelled `family` over the families, each
branch holding that family's entries, labelled `<family>.<name>` (hyperopt labels are global), so
TPE learns which family pays as well as which parameters.

The feature encoding may be searched too: the entry `features` (`sweep.params.ENCODING`), a choice
of onehot/categorical in a family's space, labelled like any entry. It is no Spark parameter:
`decode` takes it out of a point and returns it as the trial's encoding; a space that does not
search it fits every trial on `data.features`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from hyperopt import hp

from sweep.config import AUTO, ParamSpec, SweepConfig
from sweep.params import ENCODING, Table, pinned

FAMILY = "family"  # the hyperopt label of the family choice, and its key in a sampled point
SEARCHED = "searched"  # the parent's param `features` when the space searches the encoding


@dataclass(frozen=True)
class SearchSpace:
    """What a sweep searches: each family's entries, and whether TPE also picks the family."""

    branches: dict[str, dict[str, ParamSpec]]  # family → config name → entry
    nested: bool  # model=auto
    fixed_features: str = "onehot"  # data.features: every trial's encoding unless searched

    @classmethod
    def of(cls, cfg: SweepConfig) -> SearchSpace:
        if cfg.model.family == AUTO:
            return cls(dict(cfg.search), nested=True, fixed_features=cfg.data.features)
        branches = {cfg.model.family: dict(cfg.search)}
        return cls(branches, nested=False, fixed_features=cfg.data.features)

    @property
    def searches_features(self) -> bool:
        """Whether TPE picks the encoding (load_config: in every family's space, or in none)."""
        return any(ENCODING in entries for entries in self.branches.values())

    def encodings(self) -> list[str]:
        """Every encoding a trial of this space can fit on: the data to prepare."""
        if not self.searches_features:
            return [self.fixed_features]
        found = [v for e in self.branches.values() for v in e[ENCODING].values or []]
        return list(dict.fromkeys(found))

    def recorded_features(self) -> str:
        """The parent's param `features`: the fixed encoding, or `searched`."""
        return SEARCHED if self.searches_features else self.fixed_features

    @property
    def families(self) -> list[str]:
        return list(self.branches)

    def label(self, family: str, name: str) -> str:
        return f"{family}.{name}" if self.nested else name

    def hyperopt(self) -> Any:
        """The hyperopt space; a sampled point is a dict of config names (plus `family` when
        nested), pinned entries included as constants."""
        if not self.nested:
            ((family, entries),) = self.branches.items()
            return _entries(self, family, entries)
        return hp.choice(
            FAMILY,
            [{FAMILY: f, **_entries(self, f, entries)} for f, entries in self.branches.items()],
        )

    def decode(self, point: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """A sampled point → its family, its encoding and its Spark entries by config name."""
        values = dict(point)
        family = values.pop(FAMILY) if self.nested else self.families[0]
        return family, values.pop(ENCODING, self.fixed_features), values

    def labels(self) -> list[str]:
        """Every hyperopt label of the space (pinned entries have none)."""
        found = [FAMILY] if self.nested else []
        for family, entries in self.branches.items():
            found += [self.label(family, n) for n, spec in entries.items() if not pinned(spec)]
        return found

    def vals(
        self, family: str, params: Mapping[str, Any], table: Table, features: str
    ) -> dict[str, Any] | None:
        """Pure: a finished trial's Spark params and encoding → hyperopt's stored values by label
        (a choice: its index); None when the trial lies outside this space (an encoding other
        than data.features when the encoding is not searched)."""
        entries = self.branches.get(family)
        if entries is None:
            return None
        if ENCODING not in entries and features != self.fixed_features:
            return None
        vals: dict[str, Any] = {FAMILY: self.families.index(family)} if self.nested else {}
        for name, spec in entries.items():
            value = features if name == ENCODING else params.get(table[name].spark_name)
            if value is None:
                return None
            if spec.type == "choice":
                if value not in spec.values:
                    return None
                value = list(spec.values).index(value)
            elif not spec.low <= value <= spec.high:
                return None
            if not pinned(spec):  # a pinned value is a constant of the space, not a label
                vals[self.label(family, name)] = value
        return vals

    def tag(self) -> str:
        """The space as the parent records it (tag `sweep.search_space`), compared on resume;
        one family's space keeps the flat form earlier sweeps recorded."""
        plain = {f: {n: _plain(spec) for n, spec in e.items()} for f, e in self.branches.items()}
        shown = plain if self.nested else plain[self.families[0]]
        return yaml.safe_dump(shown, default_flow_style=True, sort_keys=False).strip()[:5000]

    def as_yaml(self) -> str:
        """The `search_space.yaml` artifact: as the config gave it."""
        plain = {f: {n: _plain(spec) for n, spec in e.items()} for f, e in self.branches.items()}
        return yaml.safe_dump(plain if self.nested else plain[self.families[0]], sort_keys=False)


def _plain(spec: ParamSpec) -> dict[str, Any]:
    return {k: v for k, v in vars(spec).items() if v is not None}


def _entries(space: SearchSpace, family: str, entries: Mapping[str, ParamSpec]) -> dict[str, Any]:
    return {name: _expression(space.label(family, name), spec) for name, spec in entries.items()}


def _expression(label: str, spec: ParamSpec) -> Any:
    if pinned(spec):
        return spec.low
    if spec.type == "choice":
        return hp.choice(label, list(spec.values))
    if spec.type == "int":
        if spec.log:
            return hp.qloguniform(label, math.log(spec.low), math.log(spec.high), 1)
        return hp.quniform(label, spec.low, spec.high, 1)
    if spec.log:
        return hp.loguniform(label, math.log(spec.low), math.log(spec.high))
    return hp.uniform(label, spec.low, spec.high)


def to_spark_params(
    point: Mapping[str, Any], search: Mapping[str, ParamSpec], table: Table
) -> dict[str, Any]:
    """A decoded point (config names, hyperopt values; no encoding) → Spark parameter names and
    exact types.

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
