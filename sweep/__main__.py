"""`python -m sweep +experiment=dtree`: compose config, validate, run, print the summary."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sweep import config
from sweep.config_checks import load_config
from sweep.errors import Interrupted, SweepError

CONF_DIR = str(Path(__file__).resolve().parent / "conf")  # shipped in the wheel
QUIET = ("hyperopt", "py4j", "mlflow", "alembic")

config.register()


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    try:
        typed = load_config(cfg)
        print(_run(typed))
    except SweepError as exc:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"sweep: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        interrupted = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        print(_interrupted_message(interrupted), file=sys.stderr)
        sys.exit(interrupted.exit_code)


def _run(cfg: config.SweepConfig) -> Any:
    # Imported only now: --help and config errors answer without loading Spark and MLflow.
    from sweep import report
    from sweep.data.prepare import locate
    from sweep.interrupts import StopRequest, run_interruptibly
    from sweep.runner import run_sweep
    from sweep.spark import check_master, spark_session, unshared_data
    from sweep.tracking.runs import Tracker

    for name in QUIET:  # after the imports: mlflow sets its own level when imported
        logging.getLogger(name).setLevel(logging.WARNING)
    if cfg.data.source == "covtype":  # download (or check) the data before Spark starts: offline,
        locate(cfg.data, cfg.sweep.progress_bar)  # the clear error comes in seconds, not after it
    check_master(cfg.spark.master)
    if hint := unshared_data(cfg.spark.master, cfg.data):
        logging.getLogger("sweep").warning(hint)
    # `mlflow run` hands us its run as MLFLOW_RUN_ID: it becomes the parent. Taken out of the
    # environment so that no later fluent start_run silently reopens it.
    adopted = os.environ.pop("MLFLOW_RUN_ID", None)
    tracker = Tracker.connect(cfg.tracking, parent_run_id=adopted)  # a bad store fails in seconds
    with spark_session(cfg.spark) as spark:

        def work(stop: StopRequest) -> Any:
            try:
                return run_sweep(cfg, spark, tracker, stop)
            except Exception:
                stop.raise_if_requested()  # a job cancelled by the signal, not a real failure
                raise

        result = run_interruptibly(work, cancel=spark.sparkContext.cancelAllJobs)
    return report.summary(result)


def _interrupted_message(exc: Interrupted) -> str:
    name = signal.Signals(exc.signum).name
    if exc.parent_run_id is None:
        return f"sweep: interrupted by {name} before the search started; no trial ran."
    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("sweep.resume=")]
    command = shlex.join(["python", "-m", "sweep", *overrides, f"sweep.resume={exc.parent_run_id}"])
    return (
        f"sweep: interrupted by {name}: {exc.finished} trials finished and {exc.failed} failed; "
        f"sweep {exc.parent_run_id} and its running trial are marked KILLED. Resume with:\n"
        f"  {command}"
    )


if __name__ == "__main__":
    main()
