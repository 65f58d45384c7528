"""`python -m sweep.select <parent-run-id>`: register the best child of a past sweep.

Useful when the sweep ran with `registry.enabled=false` or `tracking.log_models=none`: the
sweep's own winner (its parent's `best_*` params: with `sweep.curves`, perhaps a smaller depth than
its child fitted) or, for a sweep that never finished, the best finished child; without a model it
is refitted with exactly those parameters on the same seeded split, and the model is logged on that
child first. The same promotion rules apply as at the end of a sweep.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf
from pyspark.sql import SparkSession

from sweep import config, run_keys, tasks
from sweep.config import SparkSettings, SweepConfig
from sweep.config_checks import load_config
from sweep.data.prepare import prepared
from sweep.errors import SweepError
from sweep.models import family
from sweep.records import Registration
from sweep.search.space import from_logged
from sweep.spark import spark_session
from sweep.tracking import history
from sweep.tracking.registry import Candidate, register
from sweep.tracking.runs import Tracker
from sweep.trial import evaluate, refit

if TYPE_CHECKING:
    from sweep.tracking.history import Run

SessionFactory = Callable[[SparkSettings], AbstractContextManager[SparkSession]]


def recorded_config(tracker: Tracker, parent: Run) -> SweepConfig:
    """The config the sweep ran with, from its config.yaml artifact."""
    path = tracker.download(parent.info.run_id, "config.yaml")
    config.register()
    schema = OmegaConf.structured(SweepConfig)
    return load_config(OmegaConf.merge(schema, OmegaConf.load(path)))


def best_child(tracker: Tracker, parent: Run, metric: str) -> Run:
    """The sweep's recorded winner, or (a sweep stopped before it chose one) its best child."""
    children = history.children(tracker, parent, finished_only=True)
    winner = parent.data.tags.get(run_keys.BEST_RUN_ID)
    if chosen := [c for c in children if c.info.run_id == winner]:
        return chosen[0]
    scored = [c for c in children if metric in c.data.metrics]
    if not scored:
        raise SweepError(
            f"sweep {parent.info.run_id} has no finished trial with {metric}",
            where="parent-run-id",
            fix="Resume or rerun the sweep; there is nothing to register",
        )
    return tasks.best_of(scored, metric, lambda c: c.data.metrics[metric])


def logged_model_uri(tracker: Tracker, child: Run) -> str | None:
    has_model = "model" in tracker.artifact_names(child.info.run_id)
    return f"runs:/{child.info.run_id}/model" if has_model else None


def select(
    tracker: Tracker, parent_id: str, overrides: dict[str, str], session: SessionFactory
) -> Registration:
    """Register the best finished child of sweep `parent_id`; `session` opens Spark if a refit
    is needed (`spark_session`, or the caller's own session)."""
    parent = history.find_parent(tracker, parent_id, tracker.experiment_id, "parent-run-id")
    cfg = recorded_config(tracker, parent)
    registry = replace(cfg.registry, **overrides)
    metric = cfg.sweep.metric
    child = best_child(tracker, parent, metric)
    fitted = child.data.params.get(run_keys.FAMILY, cfg.model.family)  # model=auto: the child's
    params, value = (
        from_logged(child.data.params, family(fitted).PARAMS),
        child.data.metrics[metric],
    )
    model_uri, test = logged_model_uri(tracker, child), None
    if parent.data.tags.get(run_keys.BEST_RUN_ID) == child.info.run_id:  # the sweep's decision
        recorded = {k: parent.data.metrics.get(f"{run_keys.TEST}{k}") for k in tasks.all_metrics()}
        test = {k: v for k, v in recorded.items() if v is not None} or None
        best = {k[len(run_keys.BEST) :]: v for k, v in parent.data.params.items()
                if k.startswith(run_keys.BEST)}  # fmt: skip
        params.update(from_logged(best, family(fitted).PARAMS))
        value = parent.data.metrics.get(f"{run_keys.BEST}{metric}", value)
        model_uri = parent.data.tags.get(run_keys.BEST_MODEL_URI) or None
    if model_uri is None or test is None or metric not in test:
        with session(cfg.spark) as spark:
            model_uri, test = _refit(spark, cfg, tracker, parent, child, params, value, model_uri)
    candidate = Candidate(
        model_uri,
        parent_id,
        child.info.run_id,
        metric,
        value,
        test,
        parent.data.params.get(run_keys.DATA_SHA256),
    )
    return register(tracker, registry, candidate)


def _refit(
    spark: SparkSession,
    cfg: SweepConfig,
    tracker: Tracker,
    parent: Run,
    child: Run,
    params: dict[str, Any],
    logged: float | None,
    model_uri: str | None,
) -> tuple[str, dict[str, float]]:
    """Refit the winner's exact params on the same seeded split in the child's encoding: its
    model (logged on the child when it has none) and test metrics."""
    fitted = child.data.params.get(run_keys.FAMILY, cfg.model.family)
    # A searched encoding: the child's; children from before each recorded it: the sweep's.
    features = child.data.params.get(run_keys.FEATURES, cfg.data.features)
    with prepared(spark, cfg.data, features=features) as data:
        recorded = parent.data.params.get(run_keys.DATA_SHA256, "unknown")
        if recorded != "unknown" and data.sha256 != recorded:
            raise SweepError(
                f"the data at {data.source} (sha256 {data.sha256}) is not what the sweep used "
                f"(sha256 {recorded})",
                where="data.path",
                fix="Restore the sweep's data file to refit its best trial",
            )
        metric = cfg.sweep.metric
        result = refit(
            data.train,
            data.validation,
            params,
            cfg.model,
            metric,
            logged,
            family_name=fitted,
            features=features,
            spec=data.spec,
        )
        if model_uri is None:
            model_uri = tracker.log_model(
                child.info.run_id, result.pipeline(), data.example, data.spec
            )
        test = evaluate(result.fitted, data.test, data.spec).metrics
    return model_uri, test


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sweep.select", description=__doc__.split("\n")[0].split(": ", 1)[1]
    )
    parser.add_argument("parent_run_id")
    parser.add_argument(
        "--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    )
    parser.add_argument("--model-name", help="default: the sweep's registry.model_name")
    parser.add_argument("--alias", help="default: the sweep's registry.alias")
    parser.add_argument(
        "--promote", choices=config.PROMOTE, help="default: the sweep's registry.promote"
    )
    args = parser.parse_args(argv)
    overrides = {
        k: v
        for k, v in {
            "model_name": args.model_name,
            "alias": args.alias,
            "promote": args.promote,
        }.items()
        if v is not None
    }
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("py4j", "mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        tracker = Tracker.open(args.tracking_uri)
        reg = select(tracker, args.parent_run_id, overrides, spark_session)
    except SweepError as exc:
        print(f"sweep.select: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    state = f"now @{reg.alias}" if reg.promoted else f"@{reg.alias} unchanged"
    print(f"Registered {reg.name} version {reg.version}, {state}: {reg.reason}")


if __name__ == "__main__":
    main()
