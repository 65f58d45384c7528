"""Typed configuration: dataclass schemas registered in Hydra's ConfigStore, validated once.

The YAML files under `conf/` hold values; these dataclasses hold types and defaults. `load()`
turns the composed DictConfig into these objects and checks every value its type alone does not
make valid. This module imports nothing else of the package but its errors and the
`${dataset_name:...}` resolver (`sweep.data.names`): the search space is
checked against the model families' tables by `sweep.config_checks.load_config`, the one way in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sweep.data.names import dataset_name
from sweep.errors import ConfigError, first_line

METRICS = (  # every task's (sweep.tasks); the task's own are checked once it is known
    "accuracy", "f1", "weightedPrecision", "weightedRecall", "f1_macro", "logLoss",
    "areaUnderROC", "areaUnderPR", "rmse", "mae", "r2",
)  # fmt: skip
TASKS = ("auto", "classification", "regression")
CLASS_WEIGHTS = ("none", "balanced")
FORMATS = ("csv", "tsv", "parquet", "json", "orc")
LOG_MODELS = ("best", "all", "none")
PROMOTE = ("if_better", "always")
DATA_SOURCES = ("covtype", "synthetic", "table")  # sweep.data.sources
ENCODINGS = ("onehot", "categorical")  # data.features: see sweep/data/features.py
AUTO = "auto"  # model=auto: TPE picks the family too; search.<family>.<name> per family
SCHEDULERS = ("none", "halving")  # sweep.schedulers
CURVE_FITS = ("top", "proposed")  # sweep.curves.fit: at the top of the depth range, or TPE's


@dataclass
class FidelitySettings:
    """Successive halving over the training fraction (sweep.scheduler=halving, see
    sweep.halving): rungs at fractions eta^-k of the training split, the smallest not below
    min_fraction; the best 1/eta of a rung move up."""

    min_fraction: float = 0.1
    eta: int = 3


@dataclass
class CurveSettings:
    """Validation curves (sweep.curves): each fit scored at every smaller depth (and a forest with
    its first t trees), each point one more observation for TPE."""

    enabled: bool = True
    fit: str = "top"  # or "proposed": fit at TPE's depth, the shallower ones come free


@dataclass
class SweepSettings:
    max_evals: int = 25
    seed: int = 0
    metric: str | None = None  # null: the task's default (accuracy, or rmse for regression)
    # Observations (trials, and their curves' points) before TPE starts modelling; hyperopt's
    # default (20) would leave TPE only 5 of a 25-eval sweep without curves.
    n_startup_jobs: int = 8
    run_name: str = "dtree-sweep"
    progress_bar: bool = True
    max_failures: int | None = 5  # failed trials tolerated before the sweep aborts; null: any
    timeout_s: float | None = None  # wall-clock budget of the search; no new trial after it
    trial_timeout_s: float | None = None  # one trial's budget: its Spark jobs cancelled, FAILED
    early_stop_rounds: int | None = None  # stop when the best has not improved for this many
    resume: str | None = None  # a parent run id, or "last"
    resume_force: bool = False  # resume even if the search space or data changed
    # A parent run id, or "last": seed TPE with that sweep's finished trials (sweep.warm_start)
    warm_start: str | None = None
    parallelism: int = 1  # trials at once (driver threads, FAIR pools); 1 is deterministic
    scheduler: str = "none"  # or "halving": fit on seeded fractions first, promote the best
    fidelity: FidelitySettings = field(default_factory=FidelitySettings)
    curves: CurveSettings = field(default_factory=CurveSettings)


@dataclass
class DataSettings:
    source: str = "covtype"
    path: str | None = None
    urls: list[str] = field(default_factory=list)
    sha256: str | None = None
    cache_dir: str = "~/.cache/sweep"
    parquet_cache: bool = True  # keep a Parquet copy of a parsed file in cache_dir (by sha256)
    rows: int = 20_000  # synthetic data only
    seed: int = 0  # synthetic generator and the train/validation/test split
    split: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    # Fixed, not derived from the core count: a tree's splits depend on the partitioning.
    partitions: int = 2
    # How the one-hot groups reach the trees: onehot (54 columns) or categorical
    # (sweep.data.features).
    features: str = "onehot"
    # data=table (sweep.data.sources.table): a file or folder, or a table in Spark's catalog
    name: str = "covtype"  # names the experiment and the registered model: <name>-<family>
    table: str | None = None
    format: str | None = None  # csv, tsv, parquet, json, orc: from the extension when null
    label: str | None = None
    drop: list[str] = field(default_factory=list)  # columns to leave out (ids, leaks)
    options: dict[str, str] = field(default_factory=dict)  # passed to Spark's reader
    task: str = "auto"  # auto, classification or regression (see sweep.data.sources.table)
    max_categories: int = 256  # a string column with more distinct values is left out
    split_column: str | None = None  # the user's own split: train / validation / test per row
    class_weight: str = "none"  # balanced: inverse-frequency weights on the training split


@dataclass
class ParamSpec:
    """A searched parameter: `int`/`float` from low to high (optionally log-scaled), or `choice`."""

    type: str = "int"
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: list[Any] | None = None


@dataclass
class ModelSettings:
    """The model family (`model=dtree|forest`, a module of `sweep.models`, or `auto`) and the
    fixed settings every family's trees take, not searched."""

    family: str = "dtree"
    seed: int = 42
    max_memory_in_mb: int = 1024
    cache_node_ids: bool = False
    checkpoint_interval: int = 10


@dataclass
class SparkSettings:
    master: str = "local[*]"
    driver_memory: str = "4g"
    app_name: str = "sweep"
    shuffle_partitions: int = 4
    ui: bool = False
    log_level: str = "ERROR"
    conf: dict[str, str] = field(default_factory=dict)


@dataclass
class TrackingSettings:
    uri: str = "sqlite:///mlflow.db"
    experiment: str = "covtype-dtree"
    log_models: str = "best"
    # How long MLflow calls retry (with backoff) while a tracking server does not answer; after
    # that the sweep stops with an error and can be resumed.
    retry_timeout_s: float = 60.0


@dataclass
class RegistrySettings:
    enabled: bool = True
    model_name: str = "covtype-dtree"
    alias: str = "champion"
    promote: str = "if_better"  # or "always"


@dataclass
class SweepConfig:
    sweep: SweepSettings = field(default_factory=SweepSettings)
    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    # Untyped in the schema: OmegaConf cannot add a dataclass-typed entry from the command line
    # (+search.min_instances_per_node={...}); load() turns each entry into a ParamSpec.
    search: dict[str, Any] = field(default_factory=dict)
    spark: SparkSettings = field(default_factory=SparkSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)


def register() -> None:
    ConfigStore.instance().store(name="base_config", node=SweepConfig)
    if not OmegaConf.has_resolver("dataset_name"):  # data=table: ${dataset_name:path,table}
        OmegaConf.register_new_resolver("dataset_name", dataset_name)


def load(cfg: DictConfig) -> SweepConfig:
    """Resolve and type the composed config, then validate it; raises ConfigError."""
    try:
        typed = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        raise ConfigError(
            first_line(exc), where=key, fix="Check the value's type and spelling"
        ) from exc
    if not isinstance(typed, SweepConfig):  # composed without the schema
        raise ConfigError("config was not composed from base_config", where="defaults")
    typed.search = search_specs(typed.search, nested=typed.model.family == AUTO)
    validate(typed)
    if typed.sweep.parallelism > 1:  # concurrent trials share the executors fairly
        typed.spark.conf.setdefault("spark.scheduler.mode", "FAIR")
    return typed


def search_specs(search: dict[str, Any], nested: bool) -> dict[str, Any]:
    """`search.*` → ParamSpec per entry; under model=auto, per family (`search.<family>.<name>`)."""
    if not nested:
        return {name: param_spec(name, node) for name, node in search.items()}
    specs = {}
    for family, entries in search.items():
        if not isinstance(entries, dict) or "type" in entries:
            raise ConfigError(
                f"model=auto nests each family's space under its name; {family!r} is not one",
                where=f"search.{family}",
                fix=f"Write search.<family>.{family}, e.g. +search.dtree.{family}={{...}}",
            )
        specs[family] = {n: param_spec(f"{family}.{n}", node) for n, node in entries.items()}
    return specs


def param_spec(name: str, node: Any) -> ParamSpec:
    """One `search.<name>` mapping → ParamSpec; unknown fields are an error, not ignored."""
    known = {f.name for f in fields(ParamSpec)}
    if not isinstance(node, dict):
        raise ConfigError(
            f"expected a mapping, got {node!r}",
            where=f"search.{name}",
            fix="Write e.g. {type: int, low: 4, high: 30}",
        )
    unknown = sorted(set(node) - known)
    if unknown:
        raise ConfigError(
            f"unknown field {unknown[0]!r}",
            where=f"search.{name}.{unknown[0]}",
            fix=f"A search entry has the fields {', '.join(sorted(known))}",
        )
    return ParamSpec(**node)


def validate(cfg: SweepConfig) -> None:
    """Check every value whose type alone does not make it valid (the search space: see
    `sweep.config_checks.load_config`): a table of (valid?, key, value, what is valid)."""
    s, d, m, t, r = cfg.sweep, cfg.data, cfg.model, cfg.tracking, cfg.registry
    either = ", ".join
    rules = [
        (s.max_evals >= 1, "sweep.max_evals", s.max_evals, "an integer >= 1"),
        (s.n_startup_jobs >= 1, "sweep.n_startup_jobs", s.n_startup_jobs, "an integer >= 1"),
        (s.metric is None or s.metric in METRICS, "sweep.metric", s.metric,
         f"one of {either(METRICS)}, or null for the task's default"),
        (s.max_failures is None or s.max_failures >= 0, "sweep.max_failures", s.max_failures,
         "an integer >= 0, or null for no limit"),
        (s.warm_start is None or bool(s.warm_start.strip()), "sweep.warm_start", s.warm_start,
         "a sweep's parent run id, or last"),
        (s.parallelism >= 1, "sweep.parallelism", s.parallelism, "an integer >= 1"),
        (s.timeout_s is None or s.timeout_s > 0, "sweep.timeout_s", s.timeout_s,
         "a number of seconds > 0, or null"),
        (s.trial_timeout_s is None or s.trial_timeout_s > 0, "sweep.trial_timeout_s",
         s.trial_timeout_s, "a number of seconds > 0, or null"),
        (s.early_stop_rounds is None or s.early_stop_rounds >= 1, "sweep.early_stop_rounds",
         s.early_stop_rounds, "an integer >= 1, or null"),
        (s.scheduler in SCHEDULERS, "sweep.scheduler", s.scheduler, f"one of {either(SCHEDULERS)}"),
        (s.curves.fit in CURVE_FITS, "sweep.curves.fit", s.curves.fit,
         f"one of {either(CURVE_FITS)}"),
        (d.source in DATA_SOURCES, "data.source", d.source, f"one of {either(DATA_SOURCES)}"),
        (d.rows >= 100, "data.rows", d.rows, "an integer >= 100"),
        (d.partitions >= 1, "data.partitions", d.partitions, "an integer >= 1"),
        (len(d.split) == 3 and all(f > 0 for f in d.split) and math.isclose(sum(d.split), 1.0),
         "data.split", list(d.split),
         "three positive fractions (train, validation, test) that sum to 1, e.g. [0.8,0.1,0.1]"),
        (d.features in ENCODINGS, "data.features", d.features, f"one of {either(ENCODINGS)}"),
        (d.task in TASKS, "data.task", d.task, f"one of {either(TASKS)}"),
        (d.class_weight in CLASS_WEIGHTS, "data.class_weight", d.class_weight,
         f"one of {either(CLASS_WEIGHTS)}"),
        (d.max_categories >= 2, "data.max_categories", d.max_categories, "an integer >= 2"),
        (d.format is None or d.format in FORMATS, "data.format", d.format,
         f"one of {either(FORMATS)}, or null to take it from the extension"),
        (d.source != "covtype" or d.path is not None or bool(d.urls), "data.urls", d.urls,
         "at least one URL when data.path is not set"),
        (m.max_memory_in_mb >= 1, "model.max_memory_in_mb", m.max_memory_in_mb, ">= 1"),
        (m.checkpoint_interval >= 1 or m.checkpoint_interval == -1, "model.checkpoint_interval",
         m.checkpoint_interval, ">= 1, or -1 to disable"),
        (t.log_models in LOG_MODELS, "tracking.log_models", t.log_models,
         f"one of {either(LOG_MODELS)}"),
        (bool(t.experiment.strip()), "tracking.experiment", t.experiment, "a non-empty name"),
        (bool(t.uri.strip()), "tracking.uri", t.uri, "a tracking URI such as sqlite:///mlflow.db"),
        (r.promote in PROMOTE, "registry.promote", r.promote, f"one of {either(PROMOTE)}"),
        (bool(r.model_name.strip()), "registry.model_name", r.model_name, "a non-empty name"),
        (bool(re.fullmatch(r"[A-Za-z_][\w-]*", r.alias)) and r.alias != "latest",
         "registry.alias", r.alias, "a name of letters, digits, _ and - (not 'latest')"),
    ]  # fmt: skip
    for ok, key, value, valid in rules:
        _check(ok, key, value, valid)
    if d.source == "synthetic" and d.path is not None:
        raise ConfigError(
            f"{d.path!r} is given, but data=synthetic generates its data",
            where="data.path",
            fix="Add data=covtype to read the file, or drop data.path",
        )


def _check(ok: bool, key: str, value: object, valid: str) -> None:
    if not ok:
        raise ConfigError(f"{value!r} is not valid", where=key, fix=f"Use {valid}")
