"""`python -m sweep +experiment=dtree`: compose config, validate, run, print the summary."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from sweep import config
from sweep.errors import SweepError

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
QUIET = ("hyperopt", "py4j", "mlflow", "alembic")

config.register()


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    try:
        typed = config.load(cfg)
        print(_run(typed))
    except SweepError as exc:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"sweep: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


def _run(cfg: config.SweepConfig) -> Any:
    # Imported only now: --help and config errors answer without loading Spark and MLflow.
    from sweep import report
    from sweep.data import local_path
    from sweep.runner import run_sweep
    from sweep.spark import check_master, spark_session
    from sweep.tracking import Tracker

    for name in QUIET:  # after the imports: mlflow sets its own level when imported
        logging.getLogger(name).setLevel(logging.WARNING)
    local_path(cfg.data)  # a missing data file fails before Spark starts,
    check_master(cfg.spark.master)
    # `mlflow run` hands us its run as MLFLOW_RUN_ID: it becomes the parent. Taken out of the
    # environment so that no later fluent start_run silently reopens it.
    adopted = os.environ.pop("MLFLOW_RUN_ID", None)
    tracker = Tracker.connect(cfg.tracking, parent_run_id=adopted)  # a bad store fails in seconds
    with spark_session(cfg.spark) as spark:
        return report.summary(run_sweep(cfg, spark, tracker))


if __name__ == "__main__":
    main()
