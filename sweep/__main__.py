"""`python -m sweep +experiment=dtree`: compose config, validate, run, print the summary."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sweep import config
from sweep.errors import SweepError

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
log = logging.getLogger("sweep")

config.register()


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    from sweep import report
    from sweep.runner import run_sweep
    from sweep.spark import spark_session
    from sweep.tracking import Tracker

    for noisy in ("hyperopt", "py4j", "mlflow", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        typed = config.load(cfg)
        tracker = Tracker.connect(typed.tracking)  # before Spark: a bad store fails in seconds
        with spark_session(typed.spark) as spark:
            result = run_sweep(typed, spark, tracker)
    except SweepError as exc:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"sweep: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(report.summary(result))


if __name__ == "__main__":
    main()
