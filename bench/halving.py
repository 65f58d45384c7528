"""Bench part `halving` (issue 12): plain TPE against successive halving on the same data, per
seed, each a fresh `python -m sweep` process with its own SQLite store.

Both sweeps' best-so-far validation accuracy (fits on the whole training split only) against the
seconds since their parent run started (data prepared; the halving sweep's rung samples are
after that, so they count) is read back from the stores and drawn into one PNG. The target:
halving's best within 0.002 of plain TPE's 30-evaluation best in at most 1/3 of its wall time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

GAP = 0.002
TIME_SHARE = 1 / 3


def halving(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench.benchmark import cli_sweep  # here: benchmark imports this module
    from sweep.time_plot import best_so_far, best_vs_time

    runs, curves = [], {}
    cache = f"data.cache_dir={work.parent / 'quality' / 'cache'}"  # shared with part quality
    common = ["+experiment=dtree", f"data.path={args.data}", cache, *args.sweep_overrides]
    for seed in args.seeds:
        plain_args = [  # in part quality's order, so that its sweep of this seed is reused
            "+experiment=dtree",
            f"data.path={args.data}",
            f"sweep.max_evals={args.evals}",
            f"sweep.seed={seed}",
            cache,
            *args.sweep_overrides,
        ]
        plain = _plain(work, seed, plain_args)
        # named by its settings: a run of other settings in the same --work is not reused
        settings = f"{args.halving_evals}-{args.halving_min_fraction}-{args.halving_eta}"
        fast_dir = work / f"halving-seed{seed}-{settings}"
        fast = cli_sweep(
            fast_dir,
            True,
            *common,
            "sweep.scheduler=halving",
            f"sweep.max_evals={args.halving_evals}",
            f"sweep.fidelity.min_fraction={args.halving_min_fraction}",
            f"sweep.fidelity.eta={args.halving_eta}",
            f"sweep.seed={seed}",
        )
        fast = {**fast, "store": f"sqlite:///{fast_dir / 'mlflow.db'}"}
        for name, run in (("plain", plain), ("halving", fast)):
            run["curve"] = points(run["store"])
            curves[f"{name} seed {seed}"] = run["curve"]
        runs.append({"seed": seed, **compare(plain, fast, best_so_far)})
    figure_path = args.report.parent / "halving.png"
    figure = best_vs_time(curves, "accuracy")
    figure_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(figure_path, dpi=110)
    return {
        "plain_evals": args.evals,
        "halving_evals": args.halving_evals,
        "min_fraction": args.halving_min_fraction,
        "eta": args.halving_eta,
        "overrides": list(args.sweep_overrides),
        "figure": figure_path.name,
        "runs": runs,
    }


def _plain(work: Path, seed: int, overrides: list[str]) -> dict[str, Any]:
    """Part quality's sweep of this seed when it ran in the same --work with the same settings
    (it is the same plain 30-evaluation sweep); else one of our own."""
    quality = work.parent / "quality" / f"seed{seed}"
    done = quality / "result.json"
    if done.exists() and json.loads(done.read_text()).get("overrides") == overrides:
        result = json.loads(done.read_text())
        return {**result, "store": f"sqlite:///{quality / 'mlflow.db'}"}
    from bench.benchmark import cli_sweep

    result = cli_sweep(work / f"plain-seed{seed}", True, *overrides)
    return {**result, "store": f"sqlite:///{work / f'plain-seed{seed}' / 'mlflow.db'}"}


def points(uri: str) -> list[tuple[float, float, float]]:
    """(seconds since the parent started, validation accuracy, train fraction) of every
    finished fit, in the order they ended."""
    from mlflow.tracking import MlflowClient

    from bench.benchmark import parent_run

    client = MlflowClient(uri)
    parent = parent_run(uri)
    runs = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    out = [
        (
            (run.info.end_time - parent.info.start_time) / 1000,
            run.data.metrics["accuracy"],
            float(run.data.params.get("train_fraction", 1.0)),
        )
        for run in runs
        if run.info.status == "FINISHED" and "accuracy" in run.data.metrics
    ]
    return sorted(out)


def compare(plain: dict[str, Any], fast: dict[str, Any], best_so_far: Any) -> dict[str, Any]:
    """The figures of one seed: bests, wall times, and when halving came within GAP."""
    target = plain["best_validation_accuracy"] - GAP
    reached = [s for s, v in best_so_far(fast["curve"]) if v >= target]
    time_ratio = fast["process_seconds"] / plain["process_seconds"]
    gap = fast["best_validation_accuracy"] - plain["best_validation_accuracy"]
    return {
        "plain": {k: v for k, v in plain.items() if k != "store"},
        "halving": {k: v for k, v in fast.items() if k != "store"},
        "gap": gap,
        "time_ratio": time_ratio,
        "search_seconds": {
            "plain": max((p[0] for p in plain["curve"]), default=0.0),
            "halving": max((p[0] for p in fast["curve"]), default=0.0),
        },
        "halving_seconds_to_within_gap": reached[0] if reached else None,
        "fits": {"plain": len(plain["curve"]), "halving": len(fast["curve"])},
        "met": gap >= -GAP and time_ratio <= TIME_SHARE,
    }


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--halving-evals",
        type=int,
        default=18,
        help="halving: configurations (2 brackets of 9 at min_fraction 0.1, eta 3: 26 fits, "
        "0.42-0.44 of plain TPE's time on full Covtype; docs/benchmarks.md section 10)",
    )
    ap.add_argument("--halving-min-fraction", type=float, default=0.1)
    ap.add_argument("--halving-eta", type=int, default=3)
    ap.add_argument(
        "--sweep-overrides",
        nargs="*",
        default=[],
        help="halving, curves: more overrides for every sweep (e.g. a smaller search for a dry "
        "run)",
    )
