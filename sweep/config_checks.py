"""Owns the checks of a typed config that need the rest of the package: its model family and
search space against the families' tables, the halving schedule's own rules, and what the task
decides once it is known (`for_task`: the metric, the impurities, enough bins for a table's
categories). `sweep.config`
imports nothing of the package, so these run here, and `load_config` is the one way in for
every entry point (CLI, `sweep.select`, the benchmark, the tests).
"""

from __future__ import annotations

import copy
import logging

from omegaconf import DictConfig

from sweep import config
from sweep.config import AUTO, DataSettings, ParamSpec, SweepConfig
from sweep.data.features import (
    SPARK_DEFAULT_MAX_BINS,
    check_search_bins,
    check_search_features,
)
from sweep.errors import ConfigError
from sweep.models import families, tables
from sweep.params import ENCODING, validate_search
from sweep.schedulers.halving import schedule as halving

log = logging.getLogger(__name__)
DEFAULT_IMPURITIES = ["gini", "entropy"]  # conf/search/*.yaml: what a regression tree replaces


def known_task(cfg: SweepConfig) -> str | None:
    """The task before any data is read: Covtype's, or the one data.task names; None for a
    table whose label decides (data.task=auto)."""
    if cfg.data.source != "table":
        return "classification"
    return None if cfg.data.task == "auto" else cfg.data.task


def for_task(cfg: SweepConfig, task: str, binary: bool = False, min_bins: int = 2) -> SweepConfig:
    """The config of a sweep whose task is known: `sweep.metric` defaults to the task's and must
    be one of its metrics; a regression tree's impurity is variance; a searched `max_bins` below
    the largest category count is raised to it (and said so). Returns a copy."""
    from sweep import tasks

    cfg = copy.deepcopy(cfg)
    chosen = tasks.task(task)
    offered = [*chosen.METRICS, *(getattr(chosen, "BINARY_METRICS", ()) if binary else ())]
    metric = cfg.sweep.metric or chosen.DEFAULT_METRIC
    if metric not in offered:
        raise ConfigError(
            f"{metric!r} is not a metric of {'binary ' if binary else ''}{task}",
            where="sweep.metric",
            fix=f"Use one of {', '.join(offered)}",
        )
    cfg.sweep.metric = metric
    spaces = cfg.search.values() if cfg.model.family == AUTO else [cfg.search]
    prefixes = [f"search.{f}" for f in cfg.search] if cfg.model.family == AUTO else ["search"]
    for prefix, entries in zip(prefixes, spaces, strict=True):
        _impurity_for_task(entries, chosen, prefix)
        _bins_for_categories(entries, min_bins, prefix)
    return cfg


def _impurity_for_task(entries: dict[str, ParamSpec], chosen: object, prefix: str) -> None:
    spec = entries.get("impurity")
    if spec is None or spec.type != "choice":
        return
    allowed = list(chosen.IMPURITIES)
    if chosen.NAME == "regression" and list(spec.values or []) == DEFAULT_IMPURITIES:
        log.info("A regression tree splits by variance; %s.impurity is variance", prefix)
        entries["impurity"] = ParamSpec(type="choice", values=["variance"])
        return
    wrong = [v for v in spec.values or [] if v not in allowed]
    if wrong:
        raise ConfigError(
            f"{wrong[0]!r} is not an impurity of {chosen.NAME}",
            where=f"{prefix}.impurity.values",
            fix=f"Use {' or '.join(allowed)} (e.g. '{prefix}.impurity.values=[{allowed[0]}]')",
        )


def _bins_for_categories(entries: dict[str, ParamSpec], need: int, prefix: str) -> None:
    """Spark needs maxBins ≥ the largest category count: a searched range that reaches below it
    is raised to it rather than failing every such trial mid-sweep."""
    spec = entries.get("max_bins")
    if need <= 2:
        return
    if spec is None:  # Spark's default bins, unless too few for the categories
        if need > SPARK_DEFAULT_MAX_BINS:
            entries["max_bins"] = ParamSpec(type="int", low=need, high=need)
            log.warning("%s.max_bins is not searched: pinned to %d, the largest category count",
                        prefix, need)  # fmt: skip
        return
    if spec.type == "choice":
        values = [v for v in spec.values or [] if v >= need] or [need]
        if values != spec.values:
            log.warning("%s.max_bins.values raised to %s: a categorical column has %d values",
                        prefix, values, need)  # fmt: skip
        entries["max_bins"] = ParamSpec(type="choice", values=values)
        return
    if spec.low is not None and spec.low < need:
        high = max(spec.high or need, need)
        log.warning("%s.max_bins.low %g raised to %d: a categorical column has %d values "
                    "(Spark needs max_bins >= the largest category count)",
                    prefix, spec.low, need, need)  # fmt: skip
        entries["max_bins"] = ParamSpec(type=spec.type, low=need, high=high, log=spec.log)


def load_config(composed: DictConfig) -> SweepConfig:
    """The composed config typed and checked (`sweep.config.load`), then the halving schedule,
    the model family and the search space (against the families' tables; a searched encoding is
    a choice of onehot/categorical, in every family's space or in none; categorical features
    need enough bins): the one way in for every entry point."""
    cfg = config.load(composed)
    if cfg.data.source == "table":
        _check_table(cfg.data)
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
        return _with_known_task(cfg)
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
    return _with_known_task(cfg)


def _with_known_task(cfg: SweepConfig) -> SweepConfig:
    """Where the task is known before the data (Covtype, an explicit data.task), its metric and
    impurities are checked now, before Spark starts; otherwise once the label is read."""
    if cfg.data.source == "table" and cfg.data.features != "onehot":
        raise ConfigError(
            "data.features chooses an encoding of Covtype's one-hot groups; a table's columns "
            "are encoded by their type",
            where="data.features",
            fix="Drop data.features (text columns are categorical already)",
        )
    task = known_task(cfg)
    return cfg if task is None else for_task(cfg, task)


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


def _check_table(d: DataSettings) -> None:
    """data=table names its data (a path or a catalog table, not both) and its label."""
    if (d.path is None) == (d.table is None):
        raise ConfigError(
            "data=table reads a file or folder (data.path) or a catalog table (data.table)"
            + (", not both" if d.path else "; neither is given"),
            where="data.path" if d.path else "data.path, data.table",
            fix="Give one, e.g. data.path=churn.csv or data.table=sales.churn",
        )
    if not (d.label or "").strip():
        raise ConfigError(
            "data=table needs the label column",
            where="data.label",
            fix="Name the column to predict, e.g. data.label=churned",
        )
    if d.label in d.drop:
        raise ConfigError(
            f"the label {d.label!r} is also in data.drop",
            where="data.drop",
            fix="Take the label out of data.drop",
        )
