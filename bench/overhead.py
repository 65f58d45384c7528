"""Bench part `overhead` (issues 8 and 12): the sweep's trial loop against the same
configurations fitted bare, alternated in one Spark session.

Each round runs the `--compare-evals` sweep (`sweep.runner.run_sweep`, seed 0, its own SQLite
store, data from the Parquet cache) and then fits and evaluates its configurations bare (same
prepared data, same `run_trial`, no MLflow). Rounds alternate sweep, bare, sweep, bare, … after one
untimed warm-up fit, so JIT warm-up and drifts of machine load fall on both sides; the figures
are the median round's. Two ratios per round:
- whole sweep: (sweep seconds − data preparation) / bare fit and evaluation seconds; it includes
  the end of the sweep (the winner's model logged once, test evaluation, plots, registration);
- trial loop: the first child's start to the last child's end / bare seconds: what issue 12
  targets (≤ 1.10).
Each child's seconds outside its fit and evaluation (its run's duration minus both) say how much
of the loop is the tool's own work, and how much is fit variance.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

ROUNDS = 2


def overhead(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench.benchmark import WARM_UP, compose, session
    from sweep.data.prepare import prepared
    from sweep.runner import run_sweep
    from sweep.tracking.runs import Tracker
    from sweep.trial import run_trial  # exactly what a sweep's trial does, without MLflow

    work.mkdir(parents=True, exist_ok=True)
    rounds = []
    with session() as spark:
        for number in range(ROUNDS):
            cfg = compose(
                "+experiment=dtree",
                f"data.path={args.data}",
                f"sweep.max_evals={args.compare_evals}",
                "sweep.seed=0",
                "sweep.progress_bar=false",
                f"data.cache_dir={work.parent / 'cache'}",
                f"tracking.uri=sqlite:///{work / f'round{number}.db'}",
            )
            if number == 0:  # the cache exists before the first sweep; the JVM is warm
                with prepared(spark, cfg.data, progress=False) as data:
                    run_trial(data.train, data.validation, WARM_UP, cfg.model)
            started = time.perf_counter()
            result = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
            sweep_wall = time.perf_counter() - started
            children = _children(cfg.tracking.uri, result.parent_run_id)
            bare = []
            with prepared(spark, cfg.data, progress=False) as data:
                for trial in result.trials:
                    t = run_trial(data.train, data.validation, trial.params, cfg.model)
                    bare.append(
                        {
                            "params": trial.params,
                            "fit_seconds": t.fit_seconds,
                            "eval_seconds": t.eval_seconds,
                            "accuracy": t.metrics["accuracy"],
                            "sweep_fit_seconds": trial.fit_seconds,
                            "sweep_eval_seconds": trial.eval_seconds,
                            "sweep_accuracy": trial.metrics.get("accuracy"),
                        }
                    )
            bare_total = sum(b["fit_seconds"] + b["eval_seconds"] for b in bare)
            loop = max(c["end"] for c in children) - min(c["start"] for c in children)
            rounds.append(
                {
                    "sweep_seconds": sweep_wall,
                    "prepare_seconds": result.prepare_seconds,
                    "loop_seconds": loop,
                    "bare_fit_eval_seconds": bare_total,
                    "sweep_fit_eval_seconds": sum(
                        b["sweep_fit_seconds"] + b["sweep_eval_seconds"] for b in bare
                    ),
                    "ratio": (sweep_wall - result.prepare_seconds) / bare_total,
                    "loop_ratio": loop / bare_total,
                    "outside_fit_seconds": [c["outside"] for c in children],
                    "best_validation_accuracy": result.best.metrics["accuracy"],
                    "trials": bare,
                }
            )
            print(f"[bench] overhead round {number}: {_brief(rounds[-1])}", flush=True)
    configs = [b["params"] for b in rounds[0]["trials"]]
    (work / "configs.json").write_text(json.dumps(configs, indent=2))  # part naive's
    middle = sorted(rounds, key=lambda r: r["loop_ratio"])[(len(rounds) - 1) // 2]
    return {
        "evals": args.compare_evals,
        **middle,
        "ratio": statistics.median(r["ratio"] for r in rounds),
        "loop_ratio": statistics.median(r["loop_ratio"] for r in rounds),
        "rounds": [{k: v for k, v in r.items() if k != "trials"} for r in rounds],
    }


def _children(uri: str, parent_id: str) -> list[dict[str, float]]:
    """Each finished child's start and end (seconds) and its seconds outside fit and evaluation."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    parent = client.get_run(parent_id)
    runs = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    out = []
    for run in runs:
        if run.info.status != "FINISHED":
            continue
        start, end = run.info.start_time / 1000, run.info.end_time / 1000
        m = run.data.metrics
        out.append(
            {
                "start": start,
                "end": end,
                "outside": end - start - m.get("fit_seconds", 0) - m.get("eval_seconds", 0),
            }
        )
    return out


def _brief(r: dict[str, Any]) -> str:
    keys = ("ratio", "loop_ratio", "sweep_seconds", "loop_seconds", "bare_fit_eval_seconds")
    return ", ".join(f"{k} {r[k]:.3f}" for k in keys)
