"""Bench part `curves` (issue 21): plain TPE without validation curves against the two designs of
a trial with curves, per seed, each a fresh `python -m sweep` process with its own SQLite store:

- plain:    `sweep.curves.enabled=false`, --evals (30) trials: the search as it was;
- top:      `sweep.curves.fit=top`: every trial fits at the top of the depth range, its result is
            its best depth, every depth an observation for TPE;
- proposed: `sweep.curves.fit=proposed`: every trial fits at TPE's depth, the shallower ones come
            free as observations;
- top+categorical: `top` on `data.features=categorical` (wilderness and soil as two categorical
            features: more accurate in every configuration of part `features`), to decide whether
            it should be the default encoding too.

Every seed runs plain TPE and the default (`top`); the other two designs run on the first seed
only, to decide the default (each costs a third of plain TPE's time; on 2 cores three seeds of
all four take longer than a working session). The curve designs get `sweep.timeout_s` of a third
of plain TPE's search seconds (the target is a quarter: what is past it only shows where they
end), and at most --evals trials. Best so far
is read from each parent's stepped `best_so_far_accuracy` (a trial at its best point), its
timestamps against the parent's start. The target: within 0.002 of plain TPE's 30-evaluation best
in at most 1/4 of its wall time, for every seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

GAP = 0.002
TIME_SHARE = 1 / 4
DEFAULT = "top"  # sweep.curves.fit's default
DESIGNS = {
    "top": ["sweep.curves.fit=top"],
    "proposed": ["sweep.curves.fit=proposed"],
    # categorical: soil is one feature of 40 values, so a tree needs at least 40 bins
    "top+categorical": [
        "sweep.curves.fit=top",
        "data.features=categorical",
        "search.max_bins.low=40",
    ],
}


def curves(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench.benchmark import cli_sweep  # here: benchmark imports this module
    from sweep.time_plot import best_vs_time

    runs, drawn = [], {}
    cache = f"data.cache_dir={work / 'cache'}"
    common = ["+experiment=dtree", f"data.path={args.data}", cache, *args.sweep_overrides]
    for seed in args.seeds:
        plain_dir = work / f"plain-seed{seed}"
        plain = cli_sweep(
            plain_dir, True, *common, f"sweep.max_evals={args.evals}", f"sweep.seed={seed}",
            "sweep.curves.enabled=false",
        )  # fmt: skip
        plain = {**plain, **trace(f"sqlite:///{plain_dir / 'mlflow.db'}")}
        budget = plain["search_seconds"] / 3
        run = {"seed": seed, "plain": plain}
        for design, overrides in DESIGNS.items():
            if design != DEFAULT and seed != args.seeds[0]:
                continue
            folder = work / f"{design}-seed{seed}"
            fast = cli_sweep(
                folder, True, *common, f"sweep.max_evals={args.evals}", f"sweep.seed={seed}",
                "sweep.curves.enabled=true", *overrides, f"sweep.timeout_s={budget:.0f}",
            )  # fmt: skip
            run[design] = {**fast, **trace(f"sqlite:///{folder / 'mlflow.db'}")}
            run[f"{design}_vs_plain"] = compare(plain, run[design])
        for name in ("plain", *(d for d in DESIGNS if d in run)):
            drawn[f"{name} seed {seed}"] = [(s, v, 1.0) for s, v in run[name]["best_so_far"]]
        runs.append(run)
    figure_path = args.report.parent / "curves.png"
    figure = best_vs_time(drawn, "accuracy")
    figure.savefig(figure_path, dpi=110)
    first = runs[0]  # every design ran on the first seed: the decision is made there
    faster = min(DESIGNS, key=lambda d: first[f"{d}_vs_plain"]["seconds_share"] or 9.0)
    return {
        "evals": args.evals,
        "overrides": list(args.sweep_overrides),
        "figure": figure_path.name,
        "runs": runs,
        "designs": {d: " ".join(o) for d, o in DESIGNS.items()},
        "faster_design": faster,
    }


def trace(uri: str) -> dict[str, Any]:
    """The parent's best so far against seconds since it started; the fits it made and the TPE
    observations they gave (each fit's own point plus the other points of its depth curve)."""
    from mlflow.tracking import MlflowClient

    from bench.benchmark import parent_run

    client = MlflowClient(uri)
    parent = parent_run(uri)
    start = parent.info.start_time
    steps = client.get_metric_history(parent.info.run_id, "best_so_far_accuracy")
    best = sorted(((m.timestamp - start) / 1000, m.value) for m in steps)
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    done = [c for c in children if c.info.status == "FINISHED" and "accuracy" in c.data.metrics]
    observations = 0
    for child in done:
        depths = client.get_metric_history(child.info.run_id, "accuracy_by_depth")
        observations += max(1, len(depths))
    return {
        "best_so_far": best,
        "fits": len(done),
        "observations": observations,
        # the last trial's step (a child's end time moves when the winner's model is logged)
        "search_seconds": max((m.timestamp - start) / 1000 for m in steps),
        "best_depths": sorted(int(c.data.metrics.get("best_depth", -1)) for c in done),
    }


def compare(plain: dict[str, Any], fast: dict[str, Any]) -> dict[str, Any]:
    """When the curve design came within GAP of plain TPE's best, as a share of plain TPE's
    search seconds; its own best and the gap."""
    target = plain["best_validation_accuracy"] - GAP
    reached = next((s for s, v in fast["best_so_far"] if v >= target), None)
    share = None if reached is None else reached / plain["search_seconds"]
    return {
        "target": target,
        "seconds_to_target": reached,
        "seconds_share": share,
        "gap": fast["best_validation_accuracy"] - plain["best_validation_accuracy"],
        "met": share is not None and share <= TIME_SHARE,
    }
