"""Owns the Python entry point: `sweep.run(...)` from a notebook or a job, the same sweep the CLI
runs, returning its outcome as a plain object.

    import sweep
    result = sweep.run(df, label="churned", overrides=["model=forest", "sweep.max_evals=30"])
    result.model_uri, result.params, result.test_metrics, result.registered_version

`data` is a Spark DataFrame already in memory, a path (a file or folder Spark reads), a catalog
table's name, or None (the overrides name the data, e.g. `data=covtype`). A DataFrame has no file
to fingerprint: its schema and row count are recorded instead, and it is never cached. The
overrides are the CLI's, in Hydra's grammar. The SparkSession is the active one (a notebook's),
else one is started from `spark.*` and stopped at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir

from sweep import config
from sweep.config_checks import load_config
from sweep.records import SweepResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """What a sweep returns to Python: the winner, its scores and where its model is."""

    parent_run_id: str
    best_run_id: str
    params: dict[str, Any]  # the winner's Spark parameters (and `family`)
    metric: str  # the selection metric
    validation_metrics: dict[str, float]
    test_metrics: dict[str, float]
    model_uri: str | None
    registered_model: str | None  # the registered name, when registered
    registered_version: int | None
    promoted: bool
    experiment_id: str
    tracking_uri: str
    sweep: SweepResult = field(repr=False)  # everything else: every trial, the spec, timings


def run(
    data: Any = None,
    *,
    label: str | None = None,
    overrides: Sequence[str] = (),
    name: str | None = None,
) -> Result:
    """Run one sweep and return its outcome (see the module docstring). `name`: what names the
    experiment and registered model (`<name>-<family>`); by default the file's or table's name,
    or `dataframe` for a DataFrame."""
    frame, data_overrides = _data_overrides(data, label, name)
    cfg = compose_config([*data_overrides, *overrides])
    return _run(cfg, frame)


def compose_config(overrides: Sequence[str]) -> config.SweepConfig:
    """The CLI's composition (conf/, the same overrides), typed and checked."""
    from sweep.__main__ import CONF_DIR  # the one place that knows where conf/ is

    config.register()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        composed = compose(config_name="config", overrides=list(overrides))
    return load_config(composed)


def _data_overrides(data: Any, label: str | None, name: str | None) -> tuple[Any, list[str]]:
    """(the DataFrame or None, the overrides that point data=table at `data`)."""
    if data is None:
        return None, [f"data.label={_quoted(label)}"] if label else []
    found = ["data=table"]
    if label is not None:
        found.append(f"data.label={_quoted(label)}")
    if name is not None:
        found.append(f"data.name={_quoted(name)}")
    if isinstance(data, str | Path):
        text = str(data)
        looks_like_path = "/" in text or Path(text).exists() or "://" in text
        found.append(f"data.{'path' if looks_like_path else 'table'}={_quoted(text)}")
        return None, found
    if not hasattr(data, "schema") or not hasattr(data, "sparkSession"):
        raise TypeError(f"data must be a Spark DataFrame, a path or a table name, not {data!r}")
    found.append(f"data.table={_quoted(name or 'dataframe')}")  # names it; not read from a catalog
    return data, found


def _quoted(value: str) -> str:
    """A value in Hydra's override grammar, whatever it holds."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run(cfg: config.SweepConfig, frame: Any) -> Result:
    from pyspark.sql import SparkSession

    from sweep.data.prepare import local_path
    from sweep.runner import run_sweep
    from sweep.spark import spark_session
    from sweep.tracking.runs import Tracker

    local_path(cfg.data)  # a missing file fails before Spark starts
    tracker = Tracker.connect(cfg.tracking)
    active = frame.sparkSession if frame is not None else SparkSession.getActiveSession()
    if active is not None:
        return outcome(run_sweep(cfg, active, tracker, frame=frame))
    with spark_session(cfg.spark) as spark:
        return outcome(run_sweep(cfg, spark, tracker))


def outcome(s: SweepResult) -> Result:
    reg = s.registration
    return Result(
        parent_run_id=s.parent_run_id,
        best_run_id=s.best.run_id,
        params={"family": s.best.family, **s.best.params},
        metric=s.metric,
        validation_metrics=dict(s.best.metrics),
        test_metrics=dict(s.test_metrics),
        model_uri=s.model_uri,
        registered_model=reg.name if reg else None,
        registered_version=reg.version if reg else None,
        promoted=bool(reg and reg.promoted),
        experiment_id=s.experiment_id,
        tracking_uri=s.tracking_uri,
        sweep=s,
    )
